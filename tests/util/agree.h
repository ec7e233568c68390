/*
 * agree.h: `tally verify` and `tally audit` judge a file alike (issue 12's
 * acceptance: on every export tests/ produces). Tests that make an export,
 * clean or damaged, pass it here.
 */
#ifndef TB_TEST_AGREE_H
#define TB_TEST_AGREE_H

#include <stdbool.h>

/*
 * Runs `tally verify --json PATH` and `tally audit --json PATH` (an export
 * file or a data directory) and fails the test unless both give the same
 * verdict, the same counts of logs, entries and legs, and, for a file that
 * fails, the same rule, log, seq and item for the first violation. Returns
 * the verdict (true: clean).
 */
bool tb_test_verify_agrees(const char *path);

#endif
