/*
 * test_route.c: routes over trust lines (PROTOCOL.md 12.7) between real
 * tallyd processes on 127.0.0.1, asked through `tally exchange route` and
 * GET /api/v1/routes. Five communities: a line Amber - Birch - Cedar -
 * Dune - Elm with trust lines both ways, then a line Amber - Dune that
 * makes a mesh. Routes of 1 to 4 hops are found along the line, the
 * shortest first once the mesh gives a shorter one; a line lowered in the
 * middle is shown full with its room, and the route goes around it; too
 * many hops, an amount no route can carry, an unknown member and an unknown
 * community each get a clear answer. The graph is what the logs held at
 * Amber say, so every step waits for the federation to converge. Trust
 * lines are set by `tally link add` run in parallel (each unlocks a key).
 */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fed.h"
#include "httpc.h"

#define AMBER 0
#define BIRCH 1
#define CEDAR 2
#define DUNE 3
#define ELM 4
#define N 5
#define WAIT_MS 30000
#define PW "viewer-password"

static const struct tb_fed_spec specs[N] = {
	{"Amber", {"ann", NULL}}, {"Birch", {"bob", NULL}}, {"Cedar", {"cy", NULL}},
	{"Dune", {"dee", NULL}},  {"Elm", {"eve", NULL}},
};

static int teardown(void **state)
{
	tb_fed_free(*state);
	tb_fed_kill_all();
	return 0;
}

static void fail_with_logs(struct tb_fed *f, const char *what)
{
	for (size_t i = 0; i < f->n; i++)
		tb_fed_print_tail(f, i, 2000);
	fail_msg("%s\nstdout: %s\nstderr: %s", what, f->res.out, f->res.err);
}

/* Pairs (a, b): a and b trust each other up to hours, set by every
 * `tally link add` at once, each in a child process. */
static void both(struct tb_fed *f, const size_t (*pairs)[2], size_t n, const char *hours)
{
	pid_t pid[2 * N];
	for (size_t i = 0; i < 2 * n; i++) {
		size_t a = pairs[i / 2][i % 2], b = pairs[i / 2][1 - i % 2];
		pid[i] = fork();
		assert_true(pid[i] >= 0);
		if (pid[i] == 0)
			_exit(TB_FED_TALLY(f, a, "link", "add", specs[b].name, "--limit", hours));
	}
	for (size_t i = 0; i < 2 * n; i++) {
		int st;
		while (waitpid(pid[i], &st, 0) < 0 && errno == EINTR)
			;
		if (!WIFEXITED(st) || WEXITSTATUS(st))
			fail_with_logs(f, "link add");
	}
}

/* `tally --json exchange route` at Amber: its exit code, the JSON in *out. */
static int route(struct tb_fed *f, const char *to, const char *hours, const char *max_hops,
		 json_t **out)
{
	int rc = max_hops ? TB_FED_TALLY(f, AMBER, "--json", "exchange", "route", "--to", to,
					 "--hours", hours, "--max-hops", max_hops)
			  : TB_FED_TALLY(f, AMBER, "--json", "exchange", "route", "--to", to,
					 "--hours", hours);
	*out = NULL;
	if (rc == 0 || rc == 1) {
		json_error_t e;
		*out = json_loads(f->res.out, 0, &e);
		if (!*out && rc == 0)
			fail_with_logs(f, "exchange route printed no JSON");
	}
	return rc;
}

/* The community names of route i of a "routes" or "refused" array. */
static void path_of(json_t *arr, size_t i, char *out, size_t cap)
{
	json_t *path = json_object_get(json_array_get(arr, i), "path");
	out[0] = '\0';
	for (size_t k = 0; k < json_array_size(path); k++) {
		const char *n = json_string_value(
			json_object_get(json_array_get(path, k), "community_name"));
		size_t len = strlen(out);
		snprintf(out + len, cap - len, "%s%s", k ? "-" : "", n ? n : "?");
	}
}

static void expect_path(json_t *arr, size_t i, const char *want)
{
	char got[256];
	path_of(arr, i, got, sizeof got);
	assert_string_equal(got, want);
}

static void the_line(struct tb_fed *f)
{
	json_t *j;
	const char *to[] = {"bob@Birch", "cy@Cedar", "dee@Dune", "eve@Elm"};
	const char *want[] = {"Amber-Birch", "Amber-Birch-Cedar", "Amber-Birch-Cedar-Dune",
			      "Amber-Birch-Cedar-Dune-Elm"};
	for (size_t i = 0; i < 4; i++) {
		assert_int_equal(route(f, to[i], "2", NULL, &j), 0);
		json_t *routes = json_object_get(j, "routes");
		assert_int_equal(json_array_size(routes), 1);
		expect_path(routes, 0, want[i]);
		json_t *r0 = json_array_get(routes, 0);
		assert_int_equal(json_integer_value(json_object_get(r0, "hops")),
				 (json_int_t)i + 1);
		assert_int_equal(json_integer_value(json_object_get(r0, "room_minutes")), 600);
		json_decref(j);
	}
	/* Four hops with three allowed: refused as too long. */
	assert_int_equal(route(f, "eve@Elm", "2", "3", &j), 1);
	assert_int_equal(json_array_size(json_object_get(j, "routes")), 0);
	json_t *r0 = json_array_get(json_object_get(j, "refused"), 0);
	assert_true(json_is_true(json_object_get(r0, "too_long")));
	json_decref(j);
	/* The same in words. */
	if (TB_FED_TALLY(f, AMBER, "exchange", "route", "--to", "eve@Elm", "--hours", "2") ||
	    !strstr(f->res.out,
		    "Amber -> Birch -> Cedar -> Dune -> Elm  (4 hops, room 10:00 hours)"))
		fail_with_logs(f, "exchange route in words");
	/* More than the line can carry: every route fails, each hop full. */
	assert_int_equal(route(f, "cy@Cedar", "11", NULL, &j), 1);
	r0 = json_array_get(json_object_get(j, "refused"), 0);
	json_t *leg = json_array_get(json_object_get(r0, "legs"), 0);
	assert_string_equal(json_string_value(json_object_get(leg, "reason")), "trust line full");
	assert_int_equal(json_integer_value(json_object_get(leg, "room_minutes")), 600);
	json_decref(j);
	/* No such member, no such community, no trust line at all. */
	assert_int_equal(route(f, "zed@Elm", "1", NULL, &j), 1);
	if (!strstr(f->res.err, "Elm has no active member named 'zed'"))
		fail_with_logs(f, "unknown member");
	assert_int_equal(route(f, "zed@Nowhere", "1", NULL, &j), 2);
	if (!strstr(f->res.err, "no community 'Nowhere' is admitted here"))
		fail_with_logs(f, "unknown community");
	if (TB_FED_TALLY(f, AMBER, "exchange", "route", "--to", "eve@Elm", "--hours", "11") != 1 ||
	    !strstr(f->res.err, "no route to eve@Elm for 11:00 hours: every chain of trust lines "
				"found fails") ||
	    !strstr(f->res.out, "Amber -> Birch: room 10:00 hours: trust line full"))
		fail_with_logs(f, "no route in words");
}

static void the_mesh(struct tb_fed *f)
{
	json_t *j;
	/* Amber and Dune trust each other: the shortest first. */
	assert_int_equal(route(f, "dee@Dune", "2", NULL, &j), 0);
	json_t *routes = json_object_get(j, "routes");
	assert_int_equal(json_array_size(routes), 2);
	expect_path(routes, 0, "Amber-Dune");
	expect_path(routes, 1, "Amber-Birch-Cedar-Dune");
	json_decref(j);
	assert_int_equal(route(f, "eve@Elm", "2", NULL, &j), 0);
	routes = json_object_get(j, "routes");
	assert_int_equal(json_array_size(routes), 2);
	expect_path(routes, 0, "Amber-Dune-Elm");
	expect_path(routes, 1, "Amber-Birch-Cedar-Dune-Elm");
	json_decref(j);
}

/* Cedar lowers its line for Birch to one hour: Birch -> Cedar is full for
 * two, and the route to Cedar goes around through Dune. */
static void full_in_the_middle(struct tb_fed *f)
{
	json_t *j;
	assert_int_equal(route(f, "cy@Cedar", "2", NULL, &j), 0);
	json_t *routes = json_object_get(j, "routes");
	expect_path(routes, 0, "Amber-Dune-Cedar");
	json_t *refused = json_object_get(j, "refused");
	expect_path(refused, 0, "Amber-Birch-Cedar");
	json_t *legs = json_object_get(json_array_get(refused, 0), "legs");
	json_t *bc = json_array_get(legs, 1);
	assert_false(json_is_true(json_object_get(bc, "ok")));
	assert_string_equal(json_string_value(json_object_get(bc, "reason")), "trust line full");
	assert_int_equal(json_integer_value(json_object_get(bc, "room_minutes")), 60);
	assert_int_equal(json_integer_value(json_object_get(bc, "limit_minutes")), 60);
	assert_true(json_is_true(json_object_get(json_array_get(legs, 0), "ok")));
	json_decref(j);
	if (TB_FED_TALLY(f, AMBER, "exchange", "route", "--to", "cy@Cedar", "--hours", "2") ||
	    !strstr(f->res.out, "Birch -> Cedar: room 1:00 hours: trust line full"))
		fail_with_logs(f, "the full line in words");
}

/* The same answer through the API, for a viewer. */
static void through_the_api(struct tb_fed *f, uint16_t port)
{
	struct tb_httpc_session s;
	assert_int_equal(tb_httpc_login(port, "vic", PW, &s), 200);
	struct tb_httpc_resp r;
	tb_httpc(port, "GET", "/api/v1/routes?to=cy%40Cedar&minutes=120", &s, false, NULL, &r);
	assert_int_equal(r.status, 200);
	json_error_t e;
	json_t *j = json_loads(r.body, 0, &e);
	assert_non_null(j);
	expect_path(json_object_get(j, "routes"), 0, "Amber-Dune-Cedar");
	expect_path(json_object_get(j, "refused"), 0, "Amber-Birch-Cedar");
	assert_string_equal(json_string_value(json_object_get(j, "payee")), "cy@Cedar");
	json_decref(j);
	tb_httpc_free(&r);
	tb_httpc(port, "GET", "/api/v1/routes?to=zed%40Cedar&minutes=120", &s, false, NULL, &r);
	tb_httpc_assert_error(&r, 409, "EMEMBER");
	tb_httpc_free(&r);
	tb_httpc(port, "GET", "/api/v1/routes?to=cy%40Cedar&minutes=0", &s, false, NULL, &r);
	tb_httpc_assert_error(&r, 400, "EINVAL");
	tb_httpc_free(&r);
	tb_httpc(port, "GET", "/api/v1/routes?minutes=5", &s, false, NULL, &r);
	tb_httpc_assert_error(&r, 400, "EINVAL");
	tb_httpc_free(&r);
	tb_httpc(port, "GET", "/api/v1/routes?to=cy%40Nowhere&minutes=5", &s, false, NULL, &r);
	tb_httpc_assert_error(&r, 404, "ENOTFOUND");
	tb_httpc_free(&r);
	tb_httpc(port, "GET", "/api/v1/routes?to=cy%40Cedar&minutes=5", NULL, false, NULL, &r);
	tb_httpc_assert_error(&r, 401, "EAUTH");
	tb_httpc_free(&r);
	(void)f;
}

static void test_routes(void **state)
{
	struct tb_fed *f = *state = tb_fed_new_spec("route", N, specs);
	char file[TB_FED_PATH + 64];
	snprintf(file, sizeof file, "%s/vic.pw", f->root);
	assert_int_equal(tb_test_write_file(file, PW, strlen(PW)), 0);
	if (TB_FED_TALLY(f, AMBER, "coordinator", "add", "vic", "--role", "viewer",
			 "--password-file", file))
		fail_with_logs(f, "coordinator add");
	/* Peers along the line. */
	for (size_t i = AMBER; i < ELM; i++)
		tb_fed_link(f, i + 1, i);
	uint16_t port = tb_fed_free_port();
	char http[32];
	snprintf(http, sizeof http, "127.0.0.1:%u", port);
	const char *on[] = {"--http", http, NULL};
	for (size_t i = BIRCH; i < N; i++)
		tb_fed_spawn(f, i, NULL);
	tb_fed_spawn(f, AMBER, on);
	for (size_t i = 0; i < N; i++)
		tb_fed_wait_up(f, i);
	const size_t line[][2] = {{AMBER, BIRCH}, {BIRCH, CEDAR}, {CEDAR, DUNE}, {DUNE, ELM}};
	both(f, line, 4, "10");
	tb_fed_wait_converged(f, NULL, 0, WAIT_MS);
	the_line(f);
	const size_t mesh[][2] = {{AMBER, DUNE}};
	both(f, mesh, 1, "10");
	tb_fed_wait_converged(f, NULL, 0, WAIT_MS);
	the_mesh(f);
	if (TB_FED_TALLY(f, CEDAR, "link", "add", "Birch", "--limit", "1"))
		fail_with_logs(f, "link add");
	tb_fed_wait_converged(f, NULL, 0, WAIT_MS);
	full_in_the_middle(f);
	through_the_api(f, port);
}

int main(int argc, char **argv)
{
	tb_test_select(argc, argv);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_routes, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
