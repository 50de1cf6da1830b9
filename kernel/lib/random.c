/* lib/random.c - the kernel's one random number generator, behind
 * getrandom(2), /dev/random and /dev/urandom.
 *
 * Why a stream cipher and not a fast PRNG: a program that reads
 * /dev/urandom wants keys and nonces, so nothing it reads may let it
 * predict what another program reads next. ChaCha20 (RFC 8439) is the
 * generator: a 256-bit key, a block counter, and each request ends by
 * replacing the key with fresh output ("fast key erasure"), so state read
 * out of the kernel later cannot reconstruct earlier output.
 *
 * The seed comes from RDRAND when the CPU has it (CPUID.1:ECX bit 30), and
 * is in any case mixed with RDTSC jitter: the low bits of the time-stamp
 * counter around work whose duration varies (cache misses, interrupts,
 * under QEMU the host's scheduling). Each request also mixes in the TSC, so
 * two boots from the same seed diverge at once. Like Linux after boot, the
 * generator never blocks: GRND_NONBLOCK and GRND_RANDOM change nothing. */
#include "random.h"
#include "string.h"
#include "spinlock.h"
#include "../arch/x86_64/cpu.h"
#include "../arch/x86_64/arch.h"
#include "../debug/debug.h"
#include "abi.h"

static struct spinlock random_lock = SPINLOCK_INIT("random");
static uint32_t key[8];                 /* [random_lock] */
static uint64_t counter;                /* [random_lock] blocks made with this key */
static bool seeded;                     /* [random_lock] */

static inline uint32_t rotl(uint32_t v, int n) { return (v << n) | (v >> (32 - n)); }

#define QR(a, b, c, d) (a += b, d = rotl(d ^ a, 16), c += d, b = rotl(b ^ c, 12), \
                        a += b, d = rotl(d ^ a, 8), c += d, b = rotl(b ^ c, 7))

/* One 64-byte ChaCha20 block of key k, block counter n, nonce (0, tweak). */
static void chacha_block(const uint32_t k[8], uint64_t n, uint32_t tweak, uint32_t out[16])
{
    uint32_t s[16] = { 0x61707865, 0x3320646e, 0x79622d32, 0x6b206574,
                       k[0], k[1], k[2], k[3], k[4], k[5], k[6], k[7],
                       (uint32_t)n, (uint32_t)(n >> 32), 0, tweak };
    uint32_t x[16];
    memcpy(x, s, sizeof(x));
    for (int i = 0; i < 10; i++) {
        QR(x[0], x[4], x[8], x[12]);
        QR(x[1], x[5], x[9], x[13]);
        QR(x[2], x[6], x[10], x[14]);
        QR(x[3], x[7], x[11], x[15]);
        QR(x[0], x[5], x[10], x[15]);
        QR(x[1], x[6], x[11], x[12]);
        QR(x[2], x[7], x[8], x[13]);
        QR(x[3], x[4], x[9], x[14]);
    }
    for (int i = 0; i < 16; i++)
        out[i] = x[i] + s[i];
}

static bool has_rdrand(void)
{
    uint32_t a, b, c, d;
    cpuid(1, 0, &a, &b, &c, &d);
    return c & (1u << 30);
}

static bool rdrand64(uint64_t *v)
{
    uint8_t ok;
    for (int i = 0; i < 10; i++) {
        __asm__ volatile("rdrand %0; setc %1" : "=r"(*v), "=qm"(ok));
        if (ok)
            return true;
    }
    return false;
}

/* 64 bits of timing jitter: TSC deltas around memory traffic. */
static uint64_t jitter(void)
{
    static volatile uint8_t scratch[4096];
    uint64_t h = rdtsc();
    for (int i = 0; i < 64; i++) {
        uint64_t t = rdtsc();
        scratch[(t * 2654435761u) & 4095]++;
        h = (h ^ (rdtsc() - t)) * 0x100000001b3ull;
        h ^= h >> 29;
    }
    return h;
}

/* _locked: the caller holds random_lock. */
static void seed_locked(void)
{
    ASSERT_HELD(&random_lock);
    bool rd = has_rdrand();
    for (int i = 0; i < 8; i += 2) {
        uint64_t v = jitter(), r;
        if (rd && rdrand64(&r))
            v ^= r;
        key[i] ^= (uint32_t)v;
        key[i + 1] ^= (uint32_t)(v >> 32);
    }
    seeded = true;
}

/* Up to 256 bytes into buf, then a new key. */
static void generate(uint8_t *buf, size_t n)
{
    uint32_t blk[16];
    uint64_t f = spin_lock_irqsave(&random_lock);
    if (!seeded)
        seed_locked();
    uint32_t tweak = (uint32_t)rdtsc();
    for (size_t done = 0; done < n; done += 64) {
        chacha_block(key, counter++, tweak, blk);
        memcpy(buf + done, blk, MIN(n - done, (size_t)64));
    }
    chacha_block(key, counter++, tweak, blk);  /* fast key erasure */
    memcpy(key, blk, sizeof(key));
    counter = 0;
    spin_unlock_irqrestore(&random_lock, f);
    memset(blk, 0, sizeof(blk));
}

void random_bytes(void *buf, size_t n)
{
    uint8_t *p = buf;
    for (size_t done = 0; done < n; done += 256)
        generate(p + done, MIN(n - done, (size_t)256));
}

long random_read_user(void *ubuf, size_t len)
{
    uint8_t tmp[256];
    size_t done = 0;
    len = MIN(len, 33554431ul);                 /* Linux's cap per call */
    while (done < len) {
        size_t k = MIN(len - done, sizeof(tmp));
        generate(tmp, k);
        if (copy_to_user((uint8_t *)ubuf + done, tmp, k)) {
            memset(tmp, 0, sizeof(tmp));
            return done ? (long)done : -EFAULT;
        }
        done += k;
    }
    memset(tmp, 0, sizeof(tmp));
    return (long)done;
}
