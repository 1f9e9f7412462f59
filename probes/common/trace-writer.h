/* trace-writer.h - the probes' trace writer: per-thread buffers flushed as whole chunks with
 * write(2) to one file per process ($PERFSWEEP_TRACE_DIR/<kind>.<pid>.pst).
 *
 * Never calls malloc or stdio (buffers are mmap'd), never takes a lock the target may hold.
 * Threading and signal-safety contract:
 *  - Each thread appends only to its own buffer (a TLS pointer); the hot path is lock-free: one
 *    relaxed atomic increment (the global seq that orders events of all threads) and plain
 *    stores. The thread claims its own buffer with a plain store (no compare-and-swap): the rare
 *    flushers of other threads' buffers (shutdown, crash) first stop the fast path and run
 *    membarrier(2) (without membarrier, every event takes the compare-and-swap slow path). The
 *    common case is inline.
 *  - ps_tw_reserve/ps_tw_commit are async-signal-safe with respect to other threads and other
 *    writers, but NOT re-entrant on the same thread: a caller that can be interrupted by its own
 *    signal handler (the CPU probe) must guard with its per-thread re-entrancy flag.
 *  - A full buffer is flushed by its owner (so SIGKILL loses at most the last buffer of each
 *    thread); thread exit flushes (pthread key destructor); fork reopens a new file in the child
 *    (call ps_tw_after_fork_child from a pthread_atfork child handler); ps_tw_shutdown at exit;
 *    ps_tw_install_crash_handlers flushes on SIGSEGV/SIGBUS/SIGILL/SIGFPE/SIGABRT and re-raises.
 *  - errno is preserved: every syscall the writer makes saves and restores it.
 *  - ENOSPC or any write error stops tracing (ps_tw_enabled() turns 0), marks the header
 *    PS_TRACE_F_DISK_FULL in place; the target runs on.
 * One writer per probe library (each .so links its own copy of this static library).
 */
#ifndef PERFSWEEP_TRACE_WRITER_H
#define PERFSWEEP_TRACE_WRITER_H

#include <stddef.h>
#include <stdint.h>

#include "trace-format.h"

#define PS_TW_BUF_SIZE (64u * 1024u)  /* one chunk at most, header included */
#define PS_TW_TIME_EVERY 8u           /* look at the coarse clock every that many records */

struct ps_tbuf {
  struct ps_tbuf *next;   /* registry of all buffers (for flush at exit / crash) */
  struct ps_tbuf *free_next;
  int busy;               /* 0 idle, 1 owner appending (slow path), 2 taken by shutdown/crash
                           * flush: claimed with compare-and-swap */
  int owner;              /* 1 while the owner appends on the fast path: written only by the
                           * owner, with plain stores (ps_tw_reserve_hot) */
  uint32_t tid;
  uint64_t first_seq;     /* seq the chunk's deltas start from */
  uint64_t last_seq;
  uint64_t last_ptr;      /* ptr fields are deltas to this */
  uint32_t nrec;
  uint32_t since_time;
  uint64_t last_time;     /* coarse clock of the last TIME record */
  uint64_t dregion;       /* after shutdown: file offset of this buffer's open region, 0 = none */
  size_t len;             /* bytes used in data, chunk header included */
  uint8_t data[PS_TW_BUF_SIZE];
};

struct ps_tw_config {
  enum ps_trace_kind kind;
  uint32_t mode;
  uint64_t param;
  uint32_t depth;
  const char *dir;        /* trace directory; must exist */
};

/* Opens <dir>/<kind>.<pid>.pst (or <kind>.<pid>.<n>.pst when taken, e.g. after exec) and writes
 * the header. Returns 0 or a negative errno (then the writer stays disabled). Call once, from the
 * probe's constructor, before any thread appends. */
int ps_tw_open(const struct ps_tw_config *cfg);

/* 1 while tracing, 0 when never opened, shut down for good, or stopped by a write error. */
int ps_tw_enabled(void);

/* Returns a pointer to at least max free bytes in the calling thread's buffer (flushing it first
 * when needed), with the thread's buffer marked busy; NULL when tracing is off or no buffer could
 * be mapped. Every successful reserve must be followed by ps_tw_commit(end) where end is one past
 * the last byte written (write at most max bytes). Records are written with ps_tw_rec_* below. */
uint8_t *ps_tw_reserve(size_t max);
void ps_tw_commit(uint8_t *end);

/* Hot-path state, defined in trace-writer.c, read by the inline functions below (hidden: each
 * probe library has its own). Not for direct use. */
#define PS_TW_HIDDEN __attribute__((visibility("hidden")))
extern PS_TW_HIDDEN __thread struct ps_tbuf *ps_tw_tbuf __attribute__((tls_model("initial-exec")));
/* [0]: the global event order (atomic), alone on its cache line: the other threads' increments
 * must not evict the read-mostly globals of the hot path */
extern PS_TW_HIDDEN uint64_t ps_tw_seq[8];
/* tracing, not yet write-through (shutdown), and membarrier(2) available: the inline fast paths
 * may claim the thread's buffer with a plain store (see ps_tw_reserve_hot) */
extern PS_TW_HIDDEN volatile int ps_tw_hot_ok;

/* The calling thread's buffer (valid between reserve and commit). */
static inline struct ps_tbuf *ps_tw_current(void) { return ps_tw_tbuf; }

/* Next global sequence number (orders records of all threads). */
static inline uint64_t ps_tw_next_seq(void)
{
  return __atomic_fetch_add(&ps_tw_seq[0], 1, __ATOMIC_RELAXED);
}

/* Every PS_TW_TIME_EVERY records of a thread: a TIME record when the coarse clock moved. Called
 * by the owner with its buffer claimed and 32 bytes of room. Out of line. */
void ps_tw_time_tick(struct ps_tbuf *b);

/* The inline common case of a reserve: claims the calling thread's buffer b (non-NULL) when the
 * writer is on and b has max free bytes, and returns the write position (pair with
 * ps_tw_commit_hot); NULL, with nothing claimed, otherwise. */
static inline uint8_t *ps_tw_try_reserve_hot(struct ps_tbuf *b, size_t max)
{
  /* Owner-only claim, no locked instruction: a plain store of b->owner, then ps_tw_hot_ok
   * read again. The only other takers of a buffer (shutdown, crash: flush_all) clear
   * ps_tw_hot_ok and run membarrier(2) before they look at b->owner: either they see
   * owner = 1 and leave the buffer alone, or we see ps_tw_hot_ok = 0 here and take the
   * compare-and-swap slow path. */
  __atomic_store_n(&b->owner, 1, __ATOMIC_RELAXED);
  __atomic_signal_fence(__ATOMIC_SEQ_CST);
  if (__builtin_expect(ps_tw_hot_ok && b->len + max + 32 <= PS_TW_BUF_SIZE, 1)) {
    if (__builtin_expect(b->since_time >= PS_TW_TIME_EVERY, 0))
      ps_tw_time_tick(b); /* the coarse clock, under our owner claim (no compare-and-swap) */
    b->since_time++;
    return b->data + b->len;
  }
  __atomic_store_n(&b->owner, 0, __ATOMIC_RELEASE);
  return NULL;
}

/* ps_tw_reserve/ps_tw_commit with the common case inline (the thread has a buffer with room, not
 * shut down); everything else goes to the out-of-line functions. Same contract, and *bp is the
 * calling thread's buffer; pair ps_tw_reserve_hot with ps_tw_commit_hot(that buffer, end). */
static inline uint8_t *ps_tw_reserve_hot(size_t max, struct ps_tbuf **bp)
{
  struct ps_tbuf *b = ps_tw_tbuf;
  *bp = b;
  if (__builtin_expect(b != NULL, 1)) {
    uint8_t *p = ps_tw_try_reserve_hot(b, max);
    if (__builtin_expect(p != NULL, 1))
      return p;
  }
  uint8_t *p = ps_tw_reserve(max);
  *bp = ps_tw_tbuf; /* may have been mapped just now */
  return p;
}

/* The rare end of a fast-path append when the writer shut down meanwhile: writes through. */
void ps_tw_commit_owned(uint8_t *end);

/* Ends an append claimed by ps_tw_try_reserve_hot: end is one past the last byte written. */
static inline void ps_tw_commit_claimed(struct ps_tbuf *b, uint8_t *end)
{
  if (__builtin_expect(!ps_tw_hot_ok, 0)) /* shut down meanwhile: write through */
    ps_tw_commit_owned(end);
  else
    b->len = (size_t)(end - b->data);
  __atomic_store_n(&b->owner, 0, __ATOMIC_RELEASE);
}

static inline void ps_tw_commit_hot(struct ps_tbuf *b, uint8_t *end)
{
  if (__builtin_expect(!b->owner, 0)) { /* ps_tw_reserve_hot took the slow path */
    ps_tw_commit(end);
    return;
  }
  ps_tw_commit_claimed(b, end);
}

/* Writes a record's type byte (type | fn << 4) and seq delta; returns the next write position. */
static inline uint8_t *ps_tw_rec_start(struct ps_tbuf *b, uint8_t *p, unsigned type, unsigned fn)
{
  uint64_t seq = ps_tw_next_seq();
  if (b->nrec == 0) {
    b->first_seq = seq;
    b->last_seq = seq;
  }
  *p++ = (uint8_t)(type | (fn << 4));
  p = ps_put_varint(p, seq - b->last_seq);
  b->last_seq = seq;
  b->nrec++;
  return p;
}

/* Like ps_tw_rec_start with a seq taken earlier by ps_tw_next_seq (e.g. before a real free inside
 * realloc); clamped so a chunk's seqs never decrease. */
static inline uint8_t *ps_tw_rec_start_at(struct ps_tbuf *b, uint8_t *p, unsigned type,
                                          unsigned fn, uint64_t seq)
{
  if (b->nrec == 0) {
    b->first_seq = seq;
    b->last_seq = seq;
  }
  if (seq < b->last_seq)
    seq = b->last_seq;
  *p++ = (uint8_t)(type | (fn << 4));
  p = ps_put_varint(p, seq - b->last_seq);
  b->last_seq = seq;
  b->nrec++;
  return p;
}

/* Starts a compact record (PS_REC_MALLOC_C / PS_REC_FREE_C): the seq delta rides in the type
 * byte when below 15. */
static inline uint8_t *ps_tw_rec_start_c(struct ps_tbuf *b, uint8_t *p, unsigned type)
{
  uint64_t seq = ps_tw_next_seq(); /* >= b->last_seq, set at the chunk's start */
  uint64_t d = seq - b->last_seq;
  b->last_seq = seq;
  b->nrec++;
  if (__builtin_expect(d < 15, 1)) {
    *p++ = (uint8_t)(type | d << 4);
    return p;
  }
  *p++ = (uint8_t)(type | 15u << 4);
  return ps_put_varint(p, d);
}

/* 1 when ptr can be written as an aptr field (ps_tw_put_aptr) of the calling thread's chunk. */
static inline int ps_tw_aptr_ok(const struct ps_tbuf *b, uint64_t ptr)
{
  return ps_aptr_ok(ptr - b->last_ptr);
}

static inline uint8_t *ps_tw_put_aptr(struct ps_tbuf *b, uint8_t *p, uint64_t ptr)
{
  p = ps_put_varint(p, ps_aptr_encode(ptr - b->last_ptr));
  b->last_ptr = ptr;
  return p;
}

static inline uint8_t *ps_tw_put_ptr(struct ps_tbuf *b, uint8_t *p, uint64_t ptr)
{
  p = ps_put_varint(p, ps_zigzag((int64_t)(ptr - b->last_ptr)));
  b->last_ptr = ptr;
  return p;
}

/* Appends a whole record of bytes [rec, rec+len) built elsewhere (type byte, seq handled here).
 * Convenience for rare records (modules, notes, thread names); returns 0 or -1 when off. */
int ps_tw_note(enum ps_note_code code, const char *text);
int ps_tw_thread_name(uint32_t tid, const char *name);

/* Flushes the calling thread's buffer now (e.g. before exec). */
void ps_tw_flush_self(void);
/* Flushes every thread's buffer that is not in the middle of an append, marks the header
 * complete, and switches to write-through so later events (other destructors) still land. */
void ps_tw_shutdown(void);
/* In the child after fork: forget the parent's buffers, open the child's own file. */
void ps_tw_after_fork_child(void);
/* Flushes on fatal signals, then re-raises with the previous disposition. */
void ps_tw_install_crash_handlers(void);

/* Monotonic ns since the trace's start. Async-signal-safe. */
uint64_t ps_tw_now_ns(void);

#endif
