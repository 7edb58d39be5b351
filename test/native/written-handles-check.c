// Exercises native/fuse-native/written-handles.h against a plain array of booleans: random
// marks, takes and re-marks over few and many handles, so the table grows and its
// backward-shift deletion runs over long probe runs. Exits 0 when every answer matched.
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include "written-handles.h"

#define HANDLES 5000

int main (void) {
  static int expected[HANDLES + 1];
  written_handles_t set;
  written_handles_init(&set);
  srand(42);
  for (int round = 0; round < 200000; round++) {
    // Mostly few handles at once, sometimes thousands (the table grows; runs get long).
    int range = (round / 20000) % 2 == 0 ? 40 : HANDLES;
    uint64_t fh = 1 + (uint64_t) (rand() % range);
    if (rand() % 2 == 0) {
      written_handles_mark(&set, fh);
      expected[fh] = 1;
    } else {
      int got = written_handles_take(&set, fh);
      if (got != expected[fh]) {
        fprintf(stderr, "round %d: take(%llu) = %d, expected %d\n", round, (unsigned long long) fh, got, expected[fh]);
        return 1;
      }
      expected[fh] = 0;
    }
  }
  size_t left = 0;
  for (int fh = 1; fh <= HANDLES; fh++) left += expected[fh];
  if (left != set.handles.count) {
    fprintf(stderr, "count %zu, expected %zu\n", set.handles.count, left);
    return 1;
  }
  if (written_handles_take(&set, 0) != 1) {
    fprintf(stderr, "fh 0 (no handle) must always go to JS\n");
    return 1;
  }
  printf("ok: %zu handles left in %zu slots\n", set.handles.count, set.handles.capacity);
  return 0;
}
