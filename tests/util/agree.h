/*
 * agree.h: `tally verify` and `tally audit` judge a file alike (issue 12's
 * acceptance: on every export tests/ produces). Tests that make an export,
 * clean or damaged, pass it here; the multi-node tests pass each node where
 * they check its ledger (tb_fed_agrees).
 */
#ifndef TB_TEST_AGREE_H
#define TB_TEST_AGREE_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Runs `tally verify --json PATH` and `tally audit --json PATH` (an export
 * file or a data directory) and fails the test unless both give the same
 * verdict, the same counts of logs, entries and legs, and, for a file that
 * fails, the same rule, log, seq and item for the first violation. Returns
 * the verdict (true: clean).
 */
bool tb_test_verify_agrees(const char *path);

/*
 * The same for node i of a test federation (fed.h): its export (`tally
 * export`, a snapshot even while its tallyd runs) and, when no tallyd runs
 * on it, its data directory too. Returns the export's verdict; fails the
 * test if the directory's differs.
 */
struct tb_fed;
bool tb_fed_agrees(struct tb_fed *f, size_t i);

#endif
