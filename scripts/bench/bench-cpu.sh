#!/usr/bin/env bash
# bench-cpu.sh - the CPU profiler against `perf record --call-graph dwarf` on the same CPU-bound
# program at 999 Hz, alternating every column once per round, N rounds, medians, ratios:
#   CPU time of the target with our profiler / untraced            (target <= 1.03)
#   end of run -> finished report: perfsweep analyze / perf report  (target <= 1/3), cold (the
#     symbol cache emptied first) and warm (the cache filled by the cold run), perf report
#     measured in the same round
#   profile size: cpu.*.pst / perf.data (DWARF call graphs)         (target <= 1/10)
# CPU time is `perf stat -e task-clock` over the whole command (profiler included). Two "floor"
# columns run an empty handler (a 20-line preload compiled here) on the same signal as each
# engine: perf_event overflow at 999 Hz, and timer_create on the thread CPU clock at 999 Hz:
# what the kernel's signal delivery alone costs on this machine. The timer_create engine
# (PERFSWEEP_CPU_ENGINE=timer, the fallback) and the opt-in SIGTRAP delivery of the perf_event
# overflow (PERFSWEEP_CPU_ENGINE=sigtrap), each with its own floor, are measured beside the
# default perf_event one.
# Mode "parts" (4th argument) splits the profiler's own CPU beyond the floor instead: fixed cost
# (start-up and exit on a program that does nothing), cost per sample at 10 kHz (perfsweep minus
# the same empty-handler floor, divided by the samples taken), cost per short thread (64 threads).
# Usage: scripts/bench/bench-cpu.sh [BUILD_DIR] [RUNS] [SCALE] [main|parts]  (defaults: build 5 20 main)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$root/build}
runs=${2:-5}
scale=${3:-20}
mode=${4:-main}
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
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
static void h(int s, siginfo_t *si, void *uc) {}
__attribute__((constructor)) static void init(void)
{
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = h;
  sa.sa_flags = SA_SIGINFO | SA_RESTART;
  sigaction(SIGPROF, &sa, 0);
  const char *pe = getenv("FLOOR_PERIOD"); /* ns, default 999 Hz */
  long period = pe ? atol(pe) : 1001001;
  int tid = (int)syscall(SYS_gettid);
  if (getenv("FLOOR_TIMER")) { /* the timer_create engine's signal */
    struct sigevent ev;
    memset(&ev, 0, sizeof ev);
    ev.sigev_notify = SIGEV_THREAD_ID; ev.sigev_signo = SIGPROF; ev._sigev_un._tid = tid;
    timer_t t;
    timer_create(CLOCK_THREAD_CPUTIME_ID, &ev, &t);
    struct itimerspec its = {{0, period}, {0, period}};
    timer_settime(t, 0, &its, 0);
    return;
  }
  struct perf_event_attr a;
  memset(&a, 0, sizeof a);
  a.size = sizeof a; a.type = PERF_TYPE_SOFTWARE; a.config = PERF_COUNT_SW_CPU_CLOCK;
  a.sample_period = (unsigned long long)period; a.disabled = 1; a.exclude_kernel = 1; a.wakeup_events = 1;
  if (getenv("FLOOR_SIGTRAP")) { /* the overflow as SIGTRAP (attr.sigtrap, Linux 5.13+) */
    sigaction(SIGTRAP, &sa, 0);
    a.sigtrap = 1; a.remove_on_exec = 1;
    int fd = (int)syscall(SYS_perf_event_open, &a, tid, -1, -1, 0);
    ioctl(fd, PERF_EVENT_IOC_ENABLE, 0);
    return;
  }
  int fd = (int)syscall(SYS_perf_event_open, &a, tid, -1, -1, 0);
  struct f_owner_ex o = {F_OWNER_TID, tid};
  fcntl(fd, F_SETFL, O_ASYNC); fcntl(fd, F_SETSIG, SIGPROF); fcntl(fd, F_SETOWN_EX, &o);
  ioctl(fd, PERF_EVENT_IOC_ENABLE, 0);
}
C
cc -O2 -shared -fPIC -o "$work/libfloor.so" "$work/floor.c" -lrt

# task-clock (ms) of a command and its children
cpu_ms() { perf stat -x, -e task-clock -o "$work/stat" -- "$@" >/dev/null 2>&1; awk -F, '/task-clock/ {print $1}' "$work/stat"; }
# wall seconds of a command
wall_s() { local t0 t1; t0=$(date +%s.%N); "$@" >/dev/null 2>&1; t1=$(date +%s.%N); echo "$t1 - $t0" | bc -l; }
median() { sort -g | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }
ratio() { echo "$1/$2" | bc -l; }

if [[ $mode == parts ]]; then
  stress=$build/bin/cpu-stress-nofp
  # the profiler at a frequency: cpu_ms env "${ours[@]}" FREQ PROG ARGS (fresh trace folder)
  ours=(PERFSWEEP_CPU=cpu-clock PERFSWEEP_TRACE_DIR="$work/t" LD_PRELOAD="$lib")
  fresh() { rm -rf "$work/t"; mkdir "$work/t"; }
  for c in f_base f_floor f_ours s_base s_floor s_floors s_ours s_n t_base t_ours; do : >"$work/$c"; done
  for i in $(seq 1 "$runs"); do
    for k in 1 2 3; do # short runs: three of each per round
      cpu_ms env "$prog" 0 >>"$work/f_base"
      cpu_ms env LD_PRELOAD="$work/libfloor.so" "$prog" 0 >>"$work/f_floor"
      fresh; cpu_ms env "${ours[@]}" PERFSWEEP_CPU_FREQ=999 "$prog" 0 >>"$work/f_ours"
    done
    cpu_ms env "$prog" "$scale" >>"$work/s_base"
    cpu_ms env FLOOR_PERIOD=100000 LD_PRELOAD="$work/libfloor.so" "$prog" "$scale" >>"$work/s_floor"
    cpu_ms env FLOOR_PERIOD=100000 FLOOR_SIGTRAP=1 LD_PRELOAD="$work/libfloor.so" "$prog" "$scale" >>"$work/s_floors"
    fresh; cpu_ms env "${ours[@]}" PERFSWEEP_CPU_FREQ=10000 "$prog" "$scale" >>"$work/s_ours"
    "$ps" analyze --json "$work/t" 2>/dev/null | grep -o '"samples": *[0-9]*' | head -1 | grep -o '[0-9]*$' >>"$work/s_n"
    cpu_ms env "$stress" threads >>"$work/t_base"
    fresh; cpu_ms env "${ours[@]}" PERFSWEEP_CPU_FREQ=999 "$stress" threads >>"$work/t_ours"
    echo "round $i/$runs done" >&2
  done
  for c in f_base f_floor f_ours s_base s_floor s_floors s_ours s_n t_base t_ours; do declare "m_$c=$(median <"$work/$c")"; done
  printf 'CPU profiler parts: %d rounds alternating, medians of task-clock\n' "$runs"
  printf '  fixed      %s 0 (no work): untraced %.2f ms | floor %.2f ms | perfsweep %.2f ms: start-up + exit %.2f ms beyond the floor\n' \
    "$(basename "$prog")" "$m_f_base" "$m_f_floor" "$m_f_ours" "$(echo "$m_f_ours - $m_f_floor" | bc -l)"
  printf '  per sample %s %s at 10 kHz: untraced %.0f ms | floor %.0f ms (%.1f us per signal) | perfsweep %.0f ms, %d samples: %.2f us per sample beyond the floor\n' \
    "$(basename "$prog")" "$scale" "$m_s_base" "$m_s_floor" "$(echo "($m_s_floor - $m_s_base) * 1000 / $m_s_n" | bc -l)" \
    "$m_s_ours" "$m_s_n" "$(echo "($m_s_ours - $m_s_floor) * 1000 / $m_s_n" | bc -l)"
  printf '  sigtrap    the same overflow delivered as SIGTRAP, empty handler: %.0f ms (%.1f us per signal)\n' \
    "$m_s_floors" "$(echo "($m_s_floors - $m_s_base) * 1000 / $m_s_n" | bc -l)"
  printf '  threads    cpu-stress threads (64 short threads): untraced %.1f ms | perfsweep %.1f ms: %.0f us per thread (its samples included)\n' \
    "$m_t_base" "$m_t_ours" "$(echo "($m_t_ours - $m_t_base) * 1000 / 64" | bc -l)"
  printf '  load       %s\n' "$(uptime)"
  exit 0
fi

cols="base floor ours floort timer floors sigtrap perf cold warm perf_rep ours_size perf_size"
for c in $cols; do : >"$work/$c"; done
export PERFSWEEP_SYMCACHE="$work/symcache"
for i in $(seq 1 "$runs"); do
  cpu_ms "$prog" "$scale" >>"$work/base"
  cpu_ms env LD_PRELOAD="$work/libfloor.so" "$prog" "$scale" >>"$work/floor"
  rm -rf "$work/t"; mkdir "$work/t"
  cpu_ms env PERFSWEEP_CPU=cpu-clock PERFSWEEP_CPU_FREQ=999 PERFSWEEP_TRACE_DIR="$work/t" \
    LD_PRELOAD="$lib" "$prog" "$scale" >>"$work/ours"
  rm -rf "$work/symcache"
  wall_s "$ps" analyze -o "$work/t/out" "$work/t" >>"$work/cold"
  wall_s "$ps" analyze -o "$work/t/out" "$work/t" >>"$work/warm"
  du -cb "$work"/t/cpu.*.pst | awk '/total/ {print $1}' >>"$work/ours_size"
  cpu_ms env FLOOR_TIMER=1 LD_PRELOAD="$work/libfloor.so" "$prog" "$scale" >>"$work/floort"
  rm -rf "$work/t2"; mkdir "$work/t2"
  cpu_ms env PERFSWEEP_CPU=cpu-clock PERFSWEEP_CPU_FREQ=999 PERFSWEEP_CPU_ENGINE=timer \
    PERFSWEEP_TRACE_DIR="$work/t2" LD_PRELOAD="$lib" "$prog" "$scale" >>"$work/timer"
  cpu_ms env FLOOR_SIGTRAP=1 LD_PRELOAD="$work/libfloor.so" "$prog" "$scale" >>"$work/floors"
  rm -rf "$work/t3"; mkdir "$work/t3"
  cpu_ms env PERFSWEEP_CPU=cpu-clock PERFSWEEP_CPU_FREQ=999 PERFSWEEP_CPU_ENGINE=sigtrap \
    PERFSWEEP_TRACE_DIR="$work/t3" LD_PRELOAD="$lib" "$prog" "$scale" >>"$work/sigtrap"
  cpu_ms perf record -q -F 999 -e cpu-clock --call-graph dwarf -o "$work/perf.data" -- "$prog" "$scale" >>"$work/perf"
  wall_s perf report -i "$work/perf.data" --stdio >>"$work/perf_rep"
  stat -c %s "$work/perf.data" >>"$work/perf_size"
  echo "run $i/$runs done" >&2
done

for c in $cols; do declare "m_$c=$(median <"$work/$c")"; done
printf 'CPU profiler benchmark: %s %s, 999 Hz, %d rounds alternating, medians\n' "$(basename "$prog")" "$scale" "$runs"
printf '  CPU time   untraced %.0f ms | perfsweep %.0f ms (%.3fx, target <= 1.03) | perf record dwarf %.0f ms (%.3fx)\n' \
  "$m_base" "$m_ours" "$(ratio "$m_ours" "$m_base")" "$m_perf" "$(ratio "$m_perf" "$m_base")"
printf '  floor      empty handler on the perf_event signal %.0f ms (%.3fx)\n' "$m_floor" "$(ratio "$m_floor" "$m_base")"
printf '  timer      perfsweep on the timer_create engine %.0f ms (%.3fx) | its floor (empty handler) %.0f ms (%.3fx)\n' \
  "$m_timer" "$(ratio "$m_timer" "$m_base")" "$m_floort" "$(ratio "$m_floort" "$m_base")"
printf '  sigtrap    perfsweep, perf_event overflow as SIGTRAP %.0f ms (%.3fx) | its floor (empty handler) %.0f ms (%.3fx)\n' \
  "$m_sigtrap" "$(ratio "$m_sigtrap" "$m_base")" "$m_floors" "$(ratio "$m_floors" "$m_base")"
printf '  report     perfsweep analyze cold %.3f s, warm %.3f s | perf report %.3f s | ratio cold %.3f, warm %.3f (target <= 0.333)\n' \
  "$m_cold" "$m_warm" "$m_perf_rep" "$(ratio "$m_cold" "$m_perf_rep")" "$(ratio "$m_warm" "$m_perf_rep")"
printf '  size       cpu.*.pst %d B | perf.data %d B | ratio %.4f (target <= 0.1)\n' \
  "$m_ours_size" "$m_perf_size" "$(ratio "$m_ours_size" "$m_perf_size")"
printf '  load       %s\n' "$(uptime)"
# per-round ratios (each against the untraced run of the same round), so the spread shows
paste "$work/base" "$work/floor" "$work/ours" "$work/floort" "$work/timer" "$work/perf" \
  "$work/cold" "$work/warm" "$work/perf_rep" "$work/floors" "$work/sigtrap" |
  awk '{printf "  round %d: ours %.3f floor %.3f | timer %.3f floor %.3f | sigtrap %.3f floor %.3f | perf %.3f | report cold %.3f warm %.3f\n", NR, $3/$1, $2/$1, $5/$1, $4/$1, $11/$1, $10/$1, $6/$1, $7/$9, $8/$9}'
