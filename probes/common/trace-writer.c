/* trace-writer.c - per-thread trace buffers flushed as chunks with pwrite(2) at an atomically
 * reserved file offset; one file per process. See trace-writer.h for the contract.
 *
 * Never: malloc, stdio, locks the target may hold (the free-list spinlock is ours alone and is
 * only taken when a thread gets or returns a buffer).
 */
#include "trace-writer.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/membarrier.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

_Static_assert(sizeof(struct ps_trace_header) == 64, "trace header is 64 bytes");
_Static_assert(sizeof(struct ps_trace_chunk) == 32, "chunk header is 32 bytes");
_Static_assert(__builtin_offsetof(struct ps_trace_header, flags) == PS_TRACE_FLAGS_OFFSET,
               "flags offset");

#define CHUNK_HDR ((uint32_t)sizeof(struct ps_trace_chunk))
/* After shutdown (late destructors still free), each thread's records go to a small region of
 * the file reserved once and rewritten as one growing chunk per commit, instead of one chunk per
 * record; the unused rest of the last region stays zero, which readers skip. */
#define DIRECT_REGION 4096u

static struct {
  int fd;
  volatile int enabled;
  volatile int direct;       /* after shutdown: every commit reaches the file (write-through) */
  struct ps_tw_config cfg;
  char dir[1024];
  char exe[1024];
  uint32_t exe_len;
  struct ps_trace_header hdr;
  uint64_t off;              /* next file offset (atomic) */
  uint32_t flags;
  struct ps_tbuf *all;       /* every buffer ever mapped (atomic push) */
  struct ps_tbuf *freelist;  /* buffers of exited threads, under freelock */
  int freelock;
  pthread_key_t key;
  int key_ok;
  int membarrier_ok;         /* registered for MEMBARRIER_CMD_PRIVATE_EXPEDITED */
  struct sigaction old_act[32];
} g = {.fd = -1};

__thread struct ps_tbuf *ps_tw_tbuf __attribute__((tls_model("initial-exec")));
#define t_buf ps_tw_tbuf
_Alignas(64) uint64_t ps_tw_seq[8];
volatile int ps_tw_hot_ok;

/* The inline fast paths of trace-writer.h take the buffer only while tracing normally. */
static void set_enabled(int on)
{
  g.enabled = on;
  ps_tw_hot_ok = g.enabled && !g.direct && g.membarrier_ok;
}

static void membarrier_register(void)
{
  int saved_errno = errno;
  g.membarrier_ok =
      syscall(SYS_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0) == 0;
  errno = saved_errno;
}

/* Before touching other threads' buffers: stop the owner-only fast path, then make every running
 * thread's earlier stores (its busy claims) visible and its later loads see ps_tw_hot_ok = 0. */
static void stop_hot_path(void)
{
  ps_tw_hot_ok = 0;
  if (g.membarrier_ok) {
    int saved_errno = errno;
    if (syscall(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0) != 0)
      __atomic_thread_fence(__ATOMIC_SEQ_CST); /* cannot fail once registered */
    errno = saved_errno;
  }
}

static uint64_t mono_abs(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t ps_tw_now_ns(void) { return mono_abs() - g.hdr.start_mono_ns; }

int ps_tw_enabled(void) { return g.enabled; }

static void set_flag(uint32_t f)
{
  uint32_t flags = __atomic_or_fetch(&g.flags, f, __ATOMIC_RELAXED);
  if (g.fd >= 0)
    (void)!pwrite(g.fd, &flags, sizeof flags, PS_TRACE_FLAGS_OFFSET);
}

static int write_at(const void *data, size_t len, uint64_t off)
{
  const uint8_t *p = data;
  while (len) {
    ssize_t n = pwrite(g.fd, p, len, (off_t)off);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return n < 0 ? -errno : -ENOSPC;
    p += n;
    len -= (size_t)n;
    off += (uint64_t)n;
  }
  return 0;
}

static void reset_buf(struct ps_tbuf *b)
{
  b->len = CHUNK_HDR;
  b->nrec = 0;
  /* the chunk's deltas start from the counter's value now (ps_tw_rec_start_c needs no first-record
   * case: any seq taken later is at least this) */
  b->first_seq = b->last_seq = __atomic_load_n(&ps_tw_seq[0], __ATOMIC_RELAXED);
  b->last_ptr = 0;
  b->since_time = PS_TW_TIME_EVERY; /* a TIME record starts every chunk */
  b->last_time = 0;
  b->dregion = 0;
}

static void flush_buf(struct ps_tbuf *b)
{
  if (b->nrec == 0 || g.fd < 0 || !g.enabled || b->dregion) { /* dregion: already written */
    reset_buf(b);
    return;
  }
  struct ps_trace_chunk c = {.magic = PS_CHUNK_MAGIC, .payload_len = (uint32_t)(b->len - CHUNK_HDR),
                             .tid = b->tid, .nrecords = b->nrec, .first_seq = b->first_seq,
                             .mono_ns = 0};
  memcpy(b->data, &c, sizeof c);
  uint64_t off = __atomic_fetch_add(&g.off, b->len, __ATOMIC_RELAXED);
  int saved_errno = errno; /* the target must never see our errno */
  int err = write_at(b->data, b->len, off);
  errno = saved_errno;
  if (err) {
    set_enabled(0);
    set_flag(PS_TRACE_F_DISK_FULL);
  }
  reset_buf(b);
}

static void spin_lock(int *l)
{
  while (__atomic_exchange_n(l, 1, __ATOMIC_ACQUIRE))
    while (__atomic_load_n(l, __ATOMIC_RELAXED))
      __builtin_ia32_pause();
}

static void spin_unlock(int *l) { __atomic_store_n(l, 0, __ATOMIC_RELEASE); }

static void key_destructor(void *v)
{
  struct ps_tbuf *b = v;
  if (!b)
    return;
  int idle = 0;
  if (__atomic_compare_exchange_n(&b->busy, &idle, 2, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) {
    flush_buf(b);
    __atomic_store_n(&b->busy, 0, __ATOMIC_RELEASE);
  }
  if (t_buf == b)
    t_buf = NULL;
  spin_lock(&g.freelock);
  b->free_next = g.freelist;
  g.freelist = b;
  spin_unlock(&g.freelock);
}

static uint8_t *put_bytes(uint8_t *p, const char *s, size_t n)
{
  p = ps_put_varint(p, n);
  memcpy(p, s, n);
  return p + n;
}

static struct ps_tbuf *buf_new(void)
{
  struct ps_tbuf *b = NULL;
  spin_lock(&g.freelock);
  if (g.freelist) {
    b = g.freelist;
    g.freelist = b->free_next;
  }
  spin_unlock(&g.freelock);
  if (!b) {
    void *m = mmap(NULL, sizeof *b, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED)
      return NULL;
    b = m;
    struct ps_tbuf *head = __atomic_load_n(&g.all, __ATOMIC_RELAXED);
    do
      b->next = head;
    while (!__atomic_compare_exchange_n(&g.all, &head, b, 1, __ATOMIC_RELEASE, __ATOMIC_RELAXED));
  }
  b->busy = 0;
  b->owner = 0;
  b->tid = (uint32_t)syscall(SYS_gettid);
  reset_buf(b);
  t_buf = b;
  if (g.key_ok)
    pthread_setspecific(g.key, b);
  /* the thread's name, as the kernel knows it now */
  char name[17] = {0};
  prctl(PR_GET_NAME, name, 0, 0, 0);
  uint8_t *p = b->data + b->len;
  p = ps_tw_rec_start(b, p, PS_REC_THREAD, 0);
  p = ps_put_varint(p, b->tid);
  p = put_bytes(p, name, strnlen(name, 16));
  b->len = (size_t)(p - b->data);
  return b;
}

uint8_t *ps_tw_reserve(size_t max)
{
  if (!g.enabled)
    return NULL;
  struct ps_tbuf *b = t_buf;
  if (!b) {
    int saved_errno = errno; /* mmap, gettid, prctl */
    b = buf_new();
    errno = saved_errno;
    if (!b)
      return NULL;
  }
  int idle = 0;
  while (!__atomic_compare_exchange_n(&b->busy, &idle, 1, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) {
    if (idle == 1)
      return NULL; /* re-entered on this thread: the caller should have guarded; drop */
    idle = 0;
    __builtin_ia32_pause();
  }
  if (b->len + max + 32 > PS_TW_BUF_SIZE)
    flush_buf(b);
  if (g.direct && b->dregion && b->len + max + 32 > DIRECT_REGION) {
    reset_buf(b); /* the region holds every committed record already: start a new one */
    b->dregion = 0;
  }
  if (b->since_time >= PS_TW_TIME_EVERY)
    ps_tw_time_tick(b);
  b->since_time++;
  return b->data + b->len;
}

void ps_tw_time_tick(struct ps_tbuf *b)
{
  /* CLOCK_MONOTONIC_COARSE is a vDSO read of a tick-updated value (~4 ms steps): a TIME record
   * only when it moved, so dense events cost a few ns and sparse ones keep their time */
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
  uint64_t coarse = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
  if (coarse != b->last_time) {
    b->last_time = coarse;
    uint8_t *p = ps_tw_rec_start(b, b->data + b->len, PS_REC_TIME, 0);
    p = ps_put_varint(p, ps_tw_now_ns());
    b->len = (size_t)(p - b->data);
  }
  b->since_time = 0;
}

static void direct_write(struct ps_tbuf *b)
{
  if (!g.enabled || g.fd < 0 || b->nrec == 0)
    return;
  if (!b->dregion && b->len > DIRECT_REGION) { /* one huge record: its own exact chunk */
    flush_buf(b);
    return;
  }
  if (!b->dregion)
    b->dregion = __atomic_fetch_add(&g.off, DIRECT_REGION, __ATOMIC_RELAXED);
  struct ps_trace_chunk c = {.magic = PS_CHUNK_MAGIC, .payload_len = (uint32_t)(b->len - CHUNK_HDR),
                             .tid = b->tid, .nrecords = b->nrec, .first_seq = b->first_seq};
  memcpy(b->data, &c, sizeof c);
  int saved_errno = errno;
  if (write_at(b->data, b->len, b->dregion)) {
    set_enabled(0);
    set_flag(PS_TRACE_F_DISK_FULL);
  }
  errno = saved_errno;
}

void ps_tw_commit_owned(uint8_t *end)
{
  struct ps_tbuf *b = t_buf;
  b->len = (size_t)(end - b->data);
  if (g.direct)
    direct_write(b);
}

void ps_tw_commit(uint8_t *end)
{
  struct ps_tbuf *b = t_buf;
  b->len = (size_t)(end - b->data);
  if (g.direct)
    direct_write(b);
  __atomic_store_n(&b->busy, 0, __ATOMIC_RELEASE);
}

int ps_tw_note(enum ps_note_code code, const char *text)
{
  size_t n = strnlen(text, 1024);
  uint8_t *p = ps_tw_reserve(n + 32);
  if (!p)
    return -1;
  struct ps_tbuf *b = t_buf;
  p = ps_tw_rec_start(b, p, PS_REC_NOTE, 0);
  p = ps_put_varint(p, (uint64_t)code);
  p = put_bytes(p, text, n);
  ps_tw_commit(p);
  return 0;
}

int ps_tw_thread_name(uint32_t tid, const char *name)
{
  size_t n = strnlen(name, 64);
  uint8_t *p = ps_tw_reserve(n + 32);
  if (!p)
    return -1;
  struct ps_tbuf *b = t_buf;
  p = ps_tw_rec_start(b, p, PS_REC_THREAD, 0);
  p = ps_put_varint(p, tid);
  p = put_bytes(p, name, n);
  ps_tw_commit(p);
  return 0;
}

static char *fmt_u(char *p, unsigned long v)
{
  char tmp[24];
  int n = 0;
  do
    tmp[n++] = (char)('0' + v % 10);
  while ((v /= 10));
  while (n)
    *p++ = tmp[--n];
  *p = 0;
  return p;
}

static int open_file(void)
{
  const char *kind = g.cfg.kind == PS_TRACE_CPU ? "cpu" : "alloc";
  char path[1200];
  size_t dl = strnlen(g.dir, sizeof g.dir - 1);
  if (dl + 64 > sizeof path)
    return -ENAMETOOLONG;
  for (unsigned attempt = 0; attempt < 1000; attempt++) {
    char *p = path;
    memcpy(p, g.dir, dl);
    p += dl;
    *p++ = '/';
    memcpy(p, kind, strlen(kind));
    p += strlen(kind);
    *p++ = '.';
    p = fmt_u(p, (unsigned long)getpid());
    if (attempt) {
      *p++ = '.';
      p = fmt_u(p, attempt);
    }
    memcpy(p, ".pst", 5);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd >= 0)
      return fd;
    if (errno != EEXIST)
      return -errno;
  }
  return -EEXIST;
}

static int start_file(void)
{
  int fd = open_file();
  if (fd < 0)
    return fd;
  g.fd = fd;
  struct timespec rt;
  clock_gettime(CLOCK_REALTIME, &rt);
  memset(&g.hdr, 0, sizeof g.hdr);
  memcpy(g.hdr.magic, PS_TRACE_MAGIC, 8);
  g.hdr.version = PS_TRACE_VERSION;
  g.hdr.kind = (uint16_t)g.cfg.kind;
  g.hdr.header_len = (uint32_t)sizeof g.hdr + g.exe_len;
  g.hdr.pid = (uint32_t)getpid();
  g.hdr.ppid = (uint32_t)getppid();
  g.hdr.start_realtime_ns = (uint64_t)rt.tv_sec * 1000000000ull + (uint64_t)rt.tv_nsec;
  g.hdr.start_mono_ns = mono_abs();
  g.hdr.mode = g.cfg.mode;
  g.hdr.param = g.cfg.param;
  g.hdr.depth = g.cfg.depth;
  g.hdr.exe_len = g.exe_len;
  g.flags = 0;
  g.off = g.hdr.header_len;
  if (write_at(&g.hdr, sizeof g.hdr, 0) || write_at(g.exe, g.exe_len, sizeof g.hdr)) {
    close(fd);
    g.fd = -1;
    return -EIO;
  }
  return 0;
}

int ps_tw_open(const struct ps_tw_config *cfg)
{
  g.cfg = *cfg;
  size_t dl = strnlen(cfg->dir, sizeof g.dir - 1);
  memcpy(g.dir, cfg->dir, dl);
  g.dir[dl] = 0;
  g.cfg.dir = g.dir;
  ssize_t n = readlink("/proc/self/exe", g.exe, sizeof g.exe - 1);
  g.exe_len = n > 0 ? (uint32_t)n : 0;
  if (!g.key_ok && pthread_key_create(&g.key, key_destructor) == 0)
    g.key_ok = 1;
  membarrier_register();
  int err = start_file();
  if (err)
    return err;
  set_enabled(1);
  return 0;
}

void ps_tw_flush_self(void)
{
  struct ps_tbuf *b = t_buf;
  if (!b)
    return;
  int idle = 0;
  if (__atomic_compare_exchange_n(&b->busy, &idle, 2, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) {
    flush_buf(b);
    __atomic_store_n(&b->busy, 0, __ATOMIC_RELEASE);
  }
}

/* Call after stop_hot_path(): a buffer whose owner is on the fast path (owner = 1) is left
 * alone, as one in the middle of a slow-path append (busy = 1). */
static void flush_all(void)
{
  for (struct ps_tbuf *b = __atomic_load_n(&g.all, __ATOMIC_ACQUIRE); b; b = b->next) {
    int idle = 0;
    if (__atomic_load_n(&b->owner, __ATOMIC_ACQUIRE) == 0 &&
        __atomic_compare_exchange_n(&b->busy, &idle, 2, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) {
      flush_buf(b);
      __atomic_store_n(&b->busy, 0, __ATOMIC_RELEASE);
    }
  }
}

void ps_tw_shutdown(void)
{
  if (g.fd < 0)
    return;
  g.direct = 1;
  stop_hot_path();
  set_enabled(g.enabled);
  flush_all();
  set_flag(PS_TRACE_F_COMPLETE);
}

void ps_tw_after_fork_child(void)
{
  if (g.fd < 0)
    return;
  close(g.fd);
  g.fd = -1;
  g.freelock = 0;
  g.freelist = NULL;
  /* the parent's unflushed events are the parent's: forget them, reuse the buffers */
  for (struct ps_tbuf *b = g.all; b; b = b->next) {
    b->busy = 0;
    b->owner = 0;
    reset_buf(b);
    if (b != t_buf) {
      b->free_next = g.freelist;
      g.freelist = b;
    }
  }
  membarrier_register(); /* the child is a new process: register it too */
  if (start_file() != 0) {
    set_enabled(0);
    return;
  }
  set_enabled(g.enabled);
  if (t_buf) {
    t_buf->tid = (uint32_t)syscall(SYS_gettid);
    char name[17] = {0};
    prctl(PR_GET_NAME, name, 0, 0, 0);
    ps_tw_thread_name(t_buf->tid, name);
  }
}

static const int crash_sigs[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT};

static void crash_handler(int sig, siginfo_t *si, void *uc)
{
  int saved = errno;
  if (g.fd >= 0 && g.enabled) {
    char msg[32] = "fatal signal ";
    fmt_u(msg + strlen(msg), (unsigned long)sig);
    struct ps_tbuf *b = t_buf;
    if (!b || (__atomic_load_n(&b->busy, __ATOMIC_RELAXED) == 0 && b->owner == 0))
      ps_tw_note(PS_NOTE_CRASH, msg);
    stop_hot_path();
    flush_all();
    set_flag(PS_TRACE_F_CRASHED);
  }
  sigaction(sig, &g.old_act[sig], NULL);
  errno = saved;
  raise(sig); /* blocked until we return, then delivered to the previous disposition */
}

void ps_tw_install_crash_handlers(void)
{
  for (size_t i = 0; i < sizeof crash_sigs / sizeof crash_sigs[0]; i++) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = crash_handler;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigemptyset(&sa.sa_mask);
    struct sigaction old;
    if (sigaction(crash_sigs[i], NULL, &old) == 0 && old.sa_handler == SIG_DFL) {
      g.old_act[crash_sigs[i]] = old;
      sigaction(crash_sigs[i], &sa, NULL);
    }
  }
}
