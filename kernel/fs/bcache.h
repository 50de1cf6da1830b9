/* fs/bcache.h - the buffer cache: disk blocks kept in memory so file
 * systems do not go to the device for every access. Read-through for now;
 * write-back comes with writing. */
#pragma once
#include "../lib/types.h"

void bcache_init(size_t block_size);
/* Copy block blockno (of the size given at init) into dst: 0 or -errno. */
int  bread(uint64_t blockno, void *dst);
