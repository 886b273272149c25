/*
 * libsepol's parse-only front end on one CIL file: cil_db_init + cil_add_file
 * (the S-expression parser secilc runs before building its AST), timed over
 * ROUNDS runs, best reported. Built and run by scripts/bench-vs-libsepol.
 */
#include <sepol/cil/cil.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: libsepol-parse FILE [ROUNDS]\n");
		return 2;
	}
	int rounds = argc > 2 ? atoi(argv[2]) : 1;
	FILE *f = fopen(argv[1], "rb");
	if (!f) {
		perror(argv[1]);
		return 1;
	}
	fseek(f, 0, SEEK_END);
	long size = ftell(f);
	fseek(f, 0, SEEK_SET);
	char *buf = malloc(size);
	if (!buf || fread(buf, 1, size, f) != (size_t)size) {
		fprintf(stderr, "%s: read failed\n", argv[1]);
		return 1;
	}
	fclose(f);
	double best = 1e9;
	for (int r = 0; r < (rounds < 1 ? 1 : rounds); r++) {
		struct cil_db *db = NULL;
		double t = now();
		cil_db_init(&db);
		if (cil_add_file(db, argv[1], buf, size) != SEPOL_OK) {
			fprintf(stderr, "%s: libsepol failed to parse it\n", argv[1]);
			return 1;
		}
		double dt = now() - t;
		if (dt < best)
			best = dt;
		cil_db_destroy(&db);
	}
	printf("bytes=%ld\nparse_ms=%.2f\n", size, best * 1e3);
	free(buf);
	return 0;
}
