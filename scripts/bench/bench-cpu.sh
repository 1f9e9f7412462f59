#!/usr/bin/env bash
# bench-cpu.sh - the CPU profiler against `perf record --call-graph dwarf` on the same CPU-bound
# program at 999 Hz, alternating (untraced, perfsweep, perf) N times, medians, ratios:
#   CPU time of the target with our profiler / untraced            (target <= 1.03)
#   end of run -> finished report: perfsweep analyze / perf report  (target <= 1/3)
#   profile size: cpu.*.pst / perf.data (DWARF call graphs)         (target <= 1/10)
# CPU time is `perf stat -e task-clock` over the whole command (profiler included).
# A "floor" column runs the same perf_event signal at 999 Hz into an empty handler (a 20-line
# preload compiled here): what the kernel's signal delivery alone costs on this machine.
# Usage: scripts/bench/bench-cpu.sh [BUILD_DIR] [RUNS] [SCALE]   (defaults: build 5 20)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$root/build}
runs=${2:-5}
scale=${3:-20}
prog=$build/bin/cpu-split-nofp
lib=$build/lib/libperfsweep-cpu.so
ps=$build/bin/perfsweep
for f in "$prog" "$lib" "$ps"; do
  [[ -e $f ]] || { echo "bench-cpu: $f is missing; build first: scripts/build.sh $build" >&2; exit 4; }
done
command -v perf >/dev/null || { echo "bench-cpu: perf is not installed (Debian: linux-perf)" >&2; exit 4; }
work=$(mktemp -d /tmp/bench-cpu-XXXXXX)
trap 'rm -rf "$work"' EXIT
cat >"$work/floor.c" <<'C'
#define _GNU_SOURCE
#include <fcntl.h>
#include <linux/perf_event.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>
static void h(int s, siginfo_t *si, void *uc) {}
__attribute__((constructor)) static void init(void)
{
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = h;
  sa.sa_flags = SA_SIGINFO | SA_RESTART;
  sigaction(SIGPROF, &sa, 0);
  struct perf_event_attr a;
  memset(&a, 0, sizeof a);
  a.size = sizeof a; a.type = PERF_TYPE_SOFTWARE; a.config = PERF_COUNT_SW_CPU_CLOCK;
  a.sample_period = 1001001; a.disabled = 1; a.exclude_kernel = 1; a.wakeup_events = 1;
  int tid = (int)syscall(SYS_gettid);
  int fd = (int)syscall(SYS_perf_event_open, &a, tid, -1, -1, 0);
  struct f_owner_ex o = {F_OWNER_TID, tid};
  fcntl(fd, F_SETFL, O_ASYNC); fcntl(fd, F_SETSIG, SIGPROF); fcntl(fd, F_SETOWN_EX, &o);
  ioctl(fd, PERF_EVENT_IOC_ENABLE, 0);
}
C
cc -O2 -shared -fPIC -o "$work/libfloor.so" "$work/floor.c"

# task-clock (ms) of a command and its children
cpu_ms() { perf stat -x, -e task-clock -o "$work/stat" -- "$@" >/dev/null 2>&1; awk -F, '/task-clock/ {print $1}' "$work/stat"; }
# wall seconds of a command
wall_s() { local t0 t1; t0=$(date +%s.%N); "$@" >/dev/null 2>&1; t1=$(date +%s.%N); echo "$t1 - $t0" | bc -l; }
median() { sort -g | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }

: >"$work/base"; : >"$work/ours"; : >"$work/perf"; : >"$work/floor"; : >"$work/ours_rep"; : >"$work/perf_rep"
: >"$work/ours_size"; : >"$work/perf_size"
for i in $(seq 1 "$runs"); do
  cpu_ms "$prog" "$scale" >>"$work/base"
  cpu_ms env LD_PRELOAD="$work/libfloor.so" "$prog" "$scale" >>"$work/floor"
  rm -rf "$work/t"; mkdir "$work/t"
  cpu_ms env PERFSWEEP_CPU=cpu-clock PERFSWEEP_CPU_FREQ=999 PERFSWEEP_TRACE_DIR="$work/t" \
    LD_PRELOAD="$lib" "$prog" "$scale" >>"$work/ours"
  wall_s "$ps" analyze -o "$work/t/out" "$work/t" >>"$work/ours_rep"
  du -cb "$work"/t/cpu.*.pst | awk '/total/ {print $1}' >>"$work/ours_size"
  cpu_ms perf record -q -F 999 -e cpu-clock --call-graph dwarf -o "$work/perf.data" -- "$prog" "$scale" >>"$work/perf"
  wall_s perf report -i "$work/perf.data" --stdio >>"$work/perf_rep"
  stat -c %s "$work/perf.data" >>"$work/perf_size"
  echo "run $i/$runs done" >&2
done

b=$(median <"$work/base"); o=$(median <"$work/ours"); p=$(median <"$work/perf"); fl=$(median <"$work/floor")
orp=$(median <"$work/ours_rep"); prp=$(median <"$work/perf_rep")
os=$(median <"$work/ours_size"); pz=$(median <"$work/perf_size")
printf 'CPU profiler benchmark: %s %s, 999 Hz, %d runs alternating, medians\n' "$(basename "$prog")" "$scale" "$runs"
printf '  CPU time   untraced %.0f ms | perfsweep %.0f ms (%.3fx, target <= 1.03) | perf record dwarf %.0f ms (%.3fx)\n' \
  "$b" "$o" "$(echo "$o/$b" | bc -l)" "$p" "$(echo "$p/$b" | bc -l)"
printf '  floor      empty handler on the same perf_event signal %.0f ms (%.3fx)\n' "$fl" "$(echo "$fl/$b" | bc -l)"
printf '  report     perfsweep analyze %.3f s | perf report %.3f s | ratio %.3f (target <= 0.333)\n' \
  "$orp" "$prp" "$(echo "$orp/$prp" | bc -l)"
printf '  size       cpu.*.pst %d B | perf.data %d B | ratio %.4f (target <= 0.1)\n' \
  "$os" "$pz" "$(echo "$os/$pz" | bc -l)"
