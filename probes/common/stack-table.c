/* stack-table.c - lock-free open-addressing table of stack hashes -> ids (see stack-table.h).
 * Never: malloc, stdio, locks.
 */
#include "stack-table.h"

#include <errno.h>
#include <sys/mman.h>

#define SLOTS (1u << 20)              /* 16 MiB virtual, touched on demand */
#define MAX_FILL (SLOTS / 4u * 3u)

struct slot {
  uint64_t hash;   /* 0 = empty */
  uint32_t id;     /* 0 = being published */
  uint32_t pad;
};

static struct slot *table;
static uint32_t next_id = 1;
static uint32_t filled;

int ps_stack_table_init(void)
{
  void *m = mmap(NULL, SLOTS * sizeof(struct slot), PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (m == MAP_FAILED)
    return -errno;
  table = m;
  return 0;
}

void ps_stack_table_reset(void)
{
  if (table)
    madvise(table, SLOTS * sizeof(struct slot), MADV_DONTNEED); /* private anon: zero again */
  filled = 0;
}

static uint64_t hash_ips(const uintptr_t *ips, unsigned n)
{
  uint64_t h = 0x9e3779b97f4a7c15ull ^ n;
  for (unsigned i = 0; i < n; i++) {
    h ^= (uint64_t)ips[i];
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 32;
  }
  h ^= h >> 29;
  h *= 0xc4ceb9fe1a85ec53ull;
  h ^= h >> 32;
  return h ? h : 1;
}

static uint32_t fresh_id(void) { return __atomic_fetch_add(&next_id, 1, __ATOMIC_RELAXED); }

uint32_t ps_stack_id(const uintptr_t *ips, unsigned n, int *is_new)
{
  *is_new = 1;
  if (!table)
    return fresh_id();
  uint64_t h = hash_ips(ips, n);
  uint32_t i = (uint32_t)h & (SLOTS - 1);
  for (unsigned probe = 0; probe < 64; probe++, i = (i + 1) & (SLOTS - 1)) {
    struct slot *s = &table[i];
    uint64_t cur = __atomic_load_n(&s->hash, __ATOMIC_ACQUIRE);
    if (cur == h) {
      uint32_t id = __atomic_load_n(&s->id, __ATOMIC_ACQUIRE);
      if (id) {
        *is_new = 0;
        return id;
      }
      return fresh_id(); /* another thread is publishing it: define our own copy, never wait */
    }
    if (cur == 0) {
      if (__atomic_load_n(&filled, __ATOMIC_RELAXED) >= MAX_FILL)
        return fresh_id();
      if (__atomic_compare_exchange_n(&s->hash, &cur, h, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
        __atomic_fetch_add(&filled, 1, __ATOMIC_RELAXED);
        uint32_t id = fresh_id();
        __atomic_store_n(&s->id, id, __ATOMIC_RELEASE);
        return id;
      }
      if (cur == h) {
        uint32_t id = __atomic_load_n(&s->id, __ATOMIC_ACQUIRE);
        if (id) {
          *is_new = 0;
          return id;
        }
        return fresh_id();
      }
    }
  }
  return fresh_id();
}

uint8_t *ps_stack_put_record(struct ps_tbuf *b, uint8_t *p, uint32_t id, const uintptr_t *ips,
                             unsigned n)
{
  p = ps_tw_rec_start(b, p, PS_REC_STACK, 0);
  p = ps_put_varint(p, id);
  p = ps_put_varint(p, n);
  uint64_t prev = 0;
  for (unsigned i = 0; i < n; i++) {
    p = i ? ps_put_varint(p, ps_zigzag((int64_t)((uint64_t)ips[i] - prev)))
          : ps_put_varint(p, (uint64_t)ips[i]);
    prev = (uint64_t)ips[i];
  }
  return p;
}
