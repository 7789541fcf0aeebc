/* Known memory workload for the tests/vm guests (built with gcc -static).
 *
 * Maps anonymous memory, fills it page by page in a fixed rotation of three
 * kinds, prints a summary, creates the ready file and then sleeps forever so
 * that the pages are still mapped when the kernel panics:
 *
 *   page i % 3 == 0  zero page: written with zeros (a real, allocated page)
 *   page i % 3 == 1  random page: xorshift64* stream seeded by (seed, i)
 *   page i % 3 == 2  text page: "vmcollect workload text page <i>\n" then
 *                    words from a fixed list picked by the same PRNG
 *
 * Every page is reproducible from the seed and its index, so tests can check
 * page contents found in a dump (see workload.txt in pre-panic/ for the
 * virtual address range and the seed).
 *
 * Usage: workload [-p PERCENT_OF_MEMTOTAL] [-m MIB] [-s SEED] [-r READY_FILE]
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sysinfo.h>
#include <time.h>
#include <unistd.h>

#define PAGE 4096u

static const char *const words[] = {
    "kernel", "memory", "page",  "dump",   "crash",  "vmcore", "collect", "zone",
    "buddy",  "slab",   "cache", "anon",   "file",   "lru",    "the",     "of",
    "and",    "a",      "to",    "in",     "is",     "that",   "for",     "it",
    "with",   "as",     "was",   "on",     "kexec",  "panic",  "elf",     "note",
};

static uint64_t mix(uint64_t seed, uint64_t i) {
  uint64_t x = seed ^ (i * 0x9E3779B97F4A7C15ull);
  x ^= x >> 33; x *= 0xff51afd7ed558ccdull;
  x ^= x >> 33; x *= 0xc4ceb9fe1a85ec53ull;
  x ^= x >> 33;
  return x ? x : 0x2545F4914F6CDD1Dull;
}

static inline uint64_t next(uint64_t *s) {
  uint64_t x = *s;
  x ^= x >> 12; x ^= x << 25; x ^= x >> 27;
  *s = x;
  return x * 0x2545F4914F6CDD1Dull;
}

static void fill_random(unsigned char *p, uint64_t seed, uint64_t i) {
  uint64_t s = mix(seed, i);
  uint64_t *q = (uint64_t *)p;
  for (unsigned k = 0; k < PAGE / 8; k++) q[k] = next(&s);
}

static void fill_text(unsigned char *p, uint64_t seed, uint64_t i) {
  uint64_t s = mix(seed, i);
  int n = snprintf((char *)p, PAGE, "vmcollect workload text page %llu\n", (unsigned long long)i);
  unsigned pos = (unsigned)n, col = 0;
  while (pos < PAGE) {
    uint64_t r = next(&s);
    const char *w = words[r % (sizeof words / sizeof words[0])];
    size_t len = strlen(w);
    for (size_t k = 0; k < len && pos < PAGE; k++) p[pos++] = (unsigned char)w[k];
    col += (unsigned)len + 1;
    if (pos < PAGE) p[pos++] = (col > 72 || (r >> 40) % 17 == 0) ? '\n' : ' ';
    if (col > 72) col = 0;
  }
}

int main(int argc, char **argv) {
  double percent = 35.0;
  long mib = -1;
  uint64_t seed = 0x766d636f6c6c6563ull; /* "vmcollec" */
  const char *ready = NULL;
  int c;
  while ((c = getopt(argc, argv, "p:m:s:r:")) != -1) {
    switch (c) {
      case 'p': percent = atof(optarg); break;
      case 'm': mib = atol(optarg); break;
      case 's': seed = strtoull(optarg, NULL, 0); break;
      case 'r': ready = optarg; break;
      default:
        fprintf(stderr, "usage: %s [-p PERCENT] [-m MIB] [-s SEED] [-r READY_FILE]\n", argv[0]);
        return 2;
    }
  }
  struct sysinfo si;
  if (sysinfo(&si) != 0) { perror("sysinfo"); return 1; }
  uint64_t total = (uint64_t)si.totalram * si.mem_unit;
  uint64_t bytes = mib >= 0 ? (uint64_t)mib << 20 : (uint64_t)(total * (percent / 100.0));
  uint64_t pages = bytes / PAGE;
  bytes = pages * PAGE;

  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  unsigned char *base = mmap(NULL, bytes ? bytes : PAGE, PROT_READ | PROT_WRITE,
                             MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (base == MAP_FAILED) { perror("mmap"); return 1; }
  /* Keep 4 KiB pages so that the three kinds interleave at page granularity. */
  madvise(base, bytes ? bytes : PAGE, MADV_NOHUGEPAGE);

  uint64_t counts[3] = {0, 0, 0};
  for (uint64_t i = 0; i < pages; i++) {
    unsigned char *p = base + i * PAGE;
    switch (i % 3) {
      case 0: memset(p, 0, PAGE); break;
      case 1: fill_random(p, seed, i); break;
      case 2: fill_text(p, seed, i); break;
    }
    counts[i % 3]++;
  }
  clock_gettime(CLOCK_MONOTONIC, &t1);
  double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;

  printf("pid=%d\n", (int)getpid());
  printf("memtotal_bytes=%llu\n", (unsigned long long)total);
  printf("bytes=%llu\n", (unsigned long long)bytes);
  printf("pages=%llu\n", (unsigned long long)pages);
  printf("vaddr_start=0x%llx\n", (unsigned long long)(uintptr_t)base);
  printf("vaddr_end=0x%llx\n", (unsigned long long)((uintptr_t)base + bytes));
  printf("seed=0x%llx\n", (unsigned long long)seed);
  printf("zero_pages=%llu\n", (unsigned long long)counts[0]);
  printf("random_pages=%llu\n", (unsigned long long)counts[1]);
  printf("text_pages=%llu\n", (unsigned long long)counts[2]);
  printf("pattern=i%%3: 0 zero, 1 random, 2 text\n");
  printf("fill_seconds=%.2f\n", secs);
  fflush(stdout);

  if (ready) {
    int fd = open(ready, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) close(fd);
  }
  for (;;) pause();
}
