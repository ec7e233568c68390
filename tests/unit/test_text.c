/*
 * test_text.c: common/text.c (tb_text.h) against tables: lookalike pairs that
 * must share a comparison key (other normal form, case, Latin/Cyrillic/Greek
 * homoglyphs, fullwidth forms), honest distinct names that must not, names
 * refused for what a reader cannot see (each with its flaw and the byte
 * offset named), display widths and edit distances.
 */
#include "testutil.h"

#include <stdio.h>
#include <string.h>

#include "tb_err.h"
#include "tb_text.h"

static int same(const char *a, const char *b)
{
	int rc = tb_text_same_name(a, strlen(a), b, strlen(b));

	assert_true(rc == 0 || rc == 1);
	return rc;
}

/* Pairs that are one name to a reader; the second is never the first. */
static const char *const lookalikes[][2] = {
	{"José", "Jose\xcc\x81"}, /* NFC vs NFD */
	{"alice", "ALICE"},	  /* case */
	{"alice", "Alice"},
	{"alice", "\xd0\xb0lice"},	    /* Cyrillic a */
	{"alice", "ali\xd1\x81\xd0\xb5"},   /* Cyrillic c, e */
	{"Paypal", "\xd0\xa0\xd0\xb0ypal"}, /* Cyrillic P, a */
	{"Olga", "\xd0\x9elga"},	    /* Cyrillic O */
	{"Olga", "0lga"},		    /* digit zero */
	{"Bill", "Bi11"},		    /* digit one */
	{"Ivan", "lvan"},		    /* I / l */
	{"Xena", "\xce\xa7"
		 "ena"},				 /* Greek Chi */
	{"Amy", "\xce\x91my"},				 /* Greek Alpha */
	{"Tom", "\xd0\xa2\xd0\xbem"},			 /* Cyrillic T, o */
	{"Kim", "\xe2\x84\xaaim"},			 /* Kelvin sign */
	{"Emma", "\xef\xbc\xa5mma"},			 /* fullwidth E */
	{"bob", "\xef\xbd\x82\xef\xbd\x8f\xef\xbd\x82"}, /* fullwidth bob */
	{"Hans", "H\xd0\xb0ns"},
	{"Sophie", "Soph\xd1\x96\xd0\xb5"}, /* Cyrillic i, e */
	{"Marie", "rnarie"},		    /* rn / m */
	{"Ana", "ANA"},
	{"Strauss", "STRAUSS"},
	{"Straße", "STRASSE"},	/* full case folding */
	{"Zoë", "Zoe\xcc\x88"}, /* NFD diaeresis */
	{"Åsa", "A\xcc\x8asa"}, /* A + ring */
	{"Åsa", "\xe2\x84\xab"
		"sa"}, /* Angstrom sign */
	{"Noël", "NOËL"},
	{"Ayşe", "Ays\xcc\xa7"
		 "e"},			      /* s + cedilla */
	{"Nguyễn", "Nguye\xcc\x82\xcc\x83n"}, /* two marks */
	{"Jan Wu", "JAN WU"},
	{"Dora", "D\xd0\xbera"}, /* Cyrillic o */
	{"Yuri", "\xd2\xaeuri"}, /* Cyrillic straight U */
	{"Eve", "\xd0\x95ve"},	 /* Cyrillic Ie */
};

static void test_lookalikes_share_a_key(void **state)
{
	unsigned n = sizeof(lookalikes) / sizeof(lookalikes[0]);

	(void)state;
	assert_true(n >= 30);
	for (unsigned i = 0; i < n; i++) {
		if (!same(lookalikes[i][0], lookalikes[i][1]) ||
		    !same(lookalikes[i][1], lookalikes[i][0]))
			fail_msg("pair %u: \"%s\" and \"%s\" are kept apart", i, lookalikes[i][0],
				 lookalikes[i][1]);
	}
}

static const char *const honest[] = {
	"alice",  "bob",	"carol",   "dave",     "erin",	 "frank",  "grace",
	"heidi",  "ivan",	"judy",	   "mallory",  "niaj",	 "olivia", "peggy",
	"rupert", "sybil",	"trent",   "victor",   "walter", "José",   "Josée",
	"Zoë",	  "Zoe Li",	"Ana Lee", "Anna Lee", "Мария",	 "Ольга",  "Δήμητρα",
	"陈静",	  "Nguyễn Văn", "Åsa",	   "Aisha",    "Ayşe",	 "Jan Wu", "Jan Wü",
};

static void test_honest_names_are_distinct(void **state)
{
	unsigned n = sizeof(honest) / sizeof(honest[0]);

	(void)state;
	assert_true(n >= 30);
	for (unsigned i = 0; i < n; i++) {
		struct tb_text_verdict v;

		assert_int_equal(tb_text_check_name(&v, honest[i], strlen(honest[i])), 0);
		for (unsigned j = 0; j < i; j++)
			if (same(honest[i], honest[j]))
				fail_msg("\"%s\" and \"%s\" share a key", honest[i], honest[j]);
	}
}

struct bad_name {
	const char *s;
	enum tb_text_flaw flaw;
	uint32_t cp;
	size_t offset;
};

static const struct bad_name bad[] = {
	{"", TB_TEXT_EMPTY, 0, 0},
	{" alice", TB_TEXT_EDGE_SPACE, 0x20, 0},
	{"alice ", TB_TEXT_EDGE_SPACE, 0x20, 5},
	{"ann  lee", TB_TEXT_DOUBLE_SPACE, 0x20, 4},
	{"al\xe2\x80\x8bice", TB_TEXT_INVISIBLE, 0x200b, 2}, /* zero width space */
	{"al\xe2\x80\x8dice", TB_TEXT_INVISIBLE, 0x200d, 2}, /* ZWJ */
	{"\xef\xbb\xbf"
	 "alice",
	 TB_TEXT_INVISIBLE, 0xfeff, 0}, /* BOM */
	{"al\xc2\xad"
	 "ice",
	 TB_TEXT_INVISIBLE, 0xad, 2}, /* soft hyphen */
	{"ali\xe2\x80\xae"
	 "ce",
	 TB_TEXT_INVISIBLE, 0x202e, 3},			/* RTL override */
	{"\xe3\x85\xa4", TB_TEXT_INVISIBLE, 0x3164, 0}, /* Hangul filler */
	{"a\xe2\xa0\x80"
	 "b",
	 TB_TEXT_INVISIBLE, 0x2800, 1},			      /* braille blank */
	{"ann\xc2\xa0lee", TB_TEXT_SEPARATOR, 0xa0, 3},	      /* no-break space */
	{"ann\xe3\x80\x80lee", TB_TEXT_SEPARATOR, 0x3000, 3}, /* ideographic */
	{"ann\xe2\x80\xa8lee", TB_TEXT_SEPARATOR, 0x2028, 3},
	{"al\tice", TB_TEXT_CONTROL, 9, 2},
	{"alice\n", TB_TEXT_CONTROL, 10, 5},
	{"al\xc2\x85ice", TB_TEXT_CONTROL, 0x85, 2},
	{"a\xee\x80\x80", TB_TEXT_UNASSIGNED, 0xe000, 1}, /* private use */
	{"\xcc\x81"
	 "a",
	 TB_TEXT_LEADING_MARK, 0x301, 0},
	{"Jose\xcc\x81", TB_TEXT_NOT_NFC, 0, 0},
	{"al\xffice", TB_TEXT_BAD_UTF8, 0, 2},
	{"\xed\xa0\x80", TB_TEXT_BAD_UTF8, 0, 0}, /* encoded surrogate */
};

static void test_invisible_and_edge_refused(void **state)
{
	(void)state;
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct tb_text_verdict v;
		int rc = tb_text_check_name(&v, bad[i].s, strlen(bad[i].s));

		if (v.flaw != bad[i].flaw || v.cp != bad[i].cp || v.offset != bad[i].offset)
			fail_msg("bad[%u]: flaw %d cp U+%04X at %zu", i, (int)v.flaw,
				 (unsigned)v.cp, v.offset);
		assert_int_equal(rc, bad[i].flaw == TB_TEXT_BAD_UTF8 ? TB_EUTF8 : TB_ENAME);
		assert_true(strlen(tb_text_flaw_str(v.flaw)) > 0);
	}
}

static void test_nfc_and_fold(void **state)
{
	char out[64];
	size_t n = 0;

	(void)state;
	assert_int_equal(tb_text_nfc(out, sizeof(out), &n, "Jose\xcc\x81", 6), 0);
	assert_string_equal(out, "José");
	assert_int_equal(n, 5);
	assert_int_equal(tb_text_fold(out, sizeof(out), &n, "GARDEN", 6), 0);
	assert_string_equal(out, "garden");
	assert_int_equal(tb_text_fold(out, sizeof(out), &n, "Straße", strlen("Straße")), 0);
	assert_string_equal(out, "strasse");
	/* Output too small, ill-formed input, input over the cap. */
	assert_int_equal(tb_text_nfc(out, 3, &n, "alice", 5), TB_ETOOLONG);
	assert_int_equal(tb_text_nfc(out, sizeof(out), &n, "a\xc3", 2), TB_EUTF8);
	assert_int_equal(tb_text_key(out, sizeof(out), &n, 0, "a\x80", 2), TB_EUTF8);
	assert_int_equal(tb_text_key(out, sizeof(out), &n, 2, "a", 1), TB_EINVAL);
	assert_int_equal(tb_text_key(out, sizeof(out), &n, TB_TEXT_KEY_VISUAL, "Ivan", 4), 0);
	assert_string_equal(out, "lvan");
	{
		static char big[TB_TEXT_IN_MAX + 2];

		memset(big, 'a', sizeof(big) - 1);
		assert_int_equal(tb_text_nfc(out, sizeof(out), &n, big, sizeof(big) - 1),
				 TB_ETOOLONG);
	}
}

static void test_width(void **state)
{
	(void)state;
	assert_int_equal(tb_text_width("alice", 5), 5);
	assert_int_equal(tb_text_width("José", strlen("José")), 4);
	assert_int_equal(tb_text_width("Jose\xcc\x81", 6), 4);
	assert_int_equal(tb_text_width("陈静", strlen("陈静")), 4);
	assert_int_equal(tb_text_width("Мария", strlen("Мария")), 5);
	assert_int_equal(tb_text_width("a\xe2\x80\x8b"
				       "b",
				       5),
			 2);
	assert_int_equal(tb_text_width("\xef\xbc\xa5", 3), 2);
	assert_int_equal(tb_text_width("a\xff", 2), 2);
}

static void test_distance(void **state)
{
	(void)state;
	assert_int_equal(tb_text_distance("alice", 5, "alice", 5, 3), 0);
	assert_int_equal(tb_text_distance("alice", 5, "ALICE", 5, 3), 0);
	assert_int_equal(tb_text_distance("alice", 5, "alcie", 5, 3), 2);
	assert_int_equal(tb_text_distance("alice", 5, "alic", 4, 3), 1);
	assert_int_equal(tb_text_distance("José", strlen("José"), "Jose", 4, 3), 1);
	assert_int_equal(tb_text_distance("alice", 5, "bob", 3, 2), 3);
	assert_int_equal(tb_text_distance("alice", 5, "walter", 6, 1), 2);
	assert_int_equal(tb_text_distance("", 0, "abc", 3, 5), 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lookalikes_share_a_key),
		cmocka_unit_test(test_honest_names_are_distinct),
		cmocka_unit_test(test_invisible_and_edge_refused),
		cmocka_unit_test(test_nfc_and_fold),
		cmocka_unit_test(test_width),
		cmocka_unit_test(test_distance),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
