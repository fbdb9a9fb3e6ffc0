# taskbench: make | make test | make demo | make bench | make deps | make run | make fuzz | make k8s
#
# Objects and binaries go under $(BUILD) (build/, or build/sanitize/ with SANITIZE=...), with
# -MMD -MP dependencies. Library flags come from pkg-config; CFLAGS, CPPFLAGS and LDFLAGS from
# the environment are honoured. CI=true adds -Werror.

CC ?= cc
SANITIZE ?=
ifeq ($(SANITIZE),)
BUILD ?= build
else
BUILD ?= build/sanitize
endif

PKGS := libmicrohttpd sqlite3 libcjson libcurl
VERSION := $(shell git describe --tags --always --dirty 2>/dev/null || echo 0.1.0)

CFLAGS ?= -O2 -g
WARNINGS := -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wformat=2
ifeq ($(CI),true)
WARNINGS += -Werror
endif
ALL_CFLAGS := -std=c17 -D_GNU_SOURCE $(WARNINGS) -pthread \
	$(shell pkg-config --cflags $(PKGS) 2>/dev/null) $(CFLAGS)
ALL_LDFLAGS := -pthread $(LDFLAGS)
LIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lm
ifneq ($(SANITIZE),)
ALL_CFLAGS += -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all
ALL_LDFLAGS += -fsanitize=$(SANITIZE)
endif

# ---- the modules: one library each, with only the include paths it may use ----------------
# A file finds the headers of its own folder by itself; everything else comes through these
# paths. common/ uses nothing else; taskd's service/ uses common/; loadgen/ uses common/ and
# publishes loadgen/include/ (the engine, its results and workload, the ledger, the audit);
# lossyfs/ uses common/ and publishes lossyfs/include/ (its control socket's client); chaos/
# links loadgen's engine and lossyfs's client and sees only those public headers. So an include
# that goes up (common/ using service/), sideways (loadgen/ using service/, chaos/ using loadgen's
# internals) or around the paths ("../service/store.h", refused by $(BUILD)/layout.ok) does not
# build; nor does an include cycle inside a module.
INCLUDES_common := -I$(BUILD)/gen
INCLUDES_service := -Icommon
INCLUDES_lossyfs := -Ilossyfs/include -Icommon
INCLUDES_loadgen := -Iloadgen/include -Icommon
INCLUDES_chaos := -Iloadgen/include -Ilossyfs/include -Icommon -I$(BUILD)/gen
# Tests: a unit test (tests/unit/MODULE/) sees its module as the module's own files do; an
# end-to-end test (tests/e2e/PROGRAM/) sees the harness and the headers of what it drives (taskd's
# for the names its metrics contract enumerates, such as the database file states).
TEST_INCLUDES := -Itests/support -Icommon
INCLUDES_tests_support := $(TEST_INCLUDES)
INCLUDES_tests_unit_common := -I$(BUILD)/gen $(TEST_INCLUDES)
INCLUDES_tests_unit_service := -Iservice $(TEST_INCLUDES)
INCLUDES_tests_unit_loadgen := -Iloadgen -Iloadgen/include $(TEST_INCLUDES)
INCLUDES_tests_unit_chaos := -Ichaos -Iloadgen/include -Ilossyfs/include -I$(BUILD)/gen $(TEST_INCLUDES)
INCLUDES_tests_unit_lossyfs := -Ilossyfs -Ilossyfs/include $(TEST_INCLUDES)
INCLUDES_tests_e2e := -Itests/e2e $(TEST_INCLUDES)
INCLUDES_tests_e2e_taskd := -Iservice $(INCLUDES_tests_e2e)
INCLUDES_tests_e2e_loadgen := -Iloadgen/include $(INCLUDES_tests_e2e)
INCLUDES_tests_e2e_chaos := -Ichaos -Iloadgen/include -Ilossyfs/include $(INCLUDES_tests_e2e)
INCLUDES_tests_fuzz := -Iservice -Iloadgen -Iloadgen/include $(TEST_INCLUDES)
INCLUDES_tests_bench := $(TEST_INCLUDES)
# An object's include paths, from the folder of its source: INCLUDES_chaos for chaos/x.c,
# INCLUDES_tests_unit_chaos for tests/unit/chaos/test_x.c.
includes_of = $(INCLUDES_$(subst /,_,$(patsubst %/,%,$(dir $(1)))))
MODULE_SOURCES := $(wildcard common/*.[ch] service/*.[ch] loadgen/*.[ch] loadgen/include/*.h \
	chaos/*.[ch] lossyfs/*.[ch] lossyfs/include/*.h)
# What clang-format keeps in shape (make format).
FORMATTED := $(MODULE_SOURCES) $(wildcard tests/*/*.[ch] tests/*/*/*.[ch])

# Files under common/assets/ (the HTML reports' scripts and styles) are compiled in as byte
# arrays, so a report is one self-contained file and the binaries need nothing at run time.
ASSET_FILES := $(sort $(wildcard common/assets/*))
ASSET_OBJ := $(BUILD)/obj/gen/assets.o
module_objs = $(patsubst %.c,$(BUILD)/obj/%.o,$(filter-out $(1)/main.c,$(wildcard $(1)/*.c)))
# chaos's built-in experiments are the files of chaos/experiments/, compiled in the same way, so
# `chaos run NAME` needs no file and runs exactly what `chaos run chaos/experiments/NAME.json` does.
EXPERIMENT_FILES := $(sort $(wildcard chaos/experiments/*.json))
EXPERIMENTS_OBJ := $(BUILD)/obj/gen/chaos_experiments.o
COMMON_LIB := $(BUILD)/libcommon.a
TASKD_LIB := $(BUILD)/libtaskd.a
LOADGEN_LIB := $(BUILD)/libloadgen.a
CHAOS_LIB := $(BUILD)/libchaos.a
# lossyfs: the FUSE file system that loses unsynced writes on command (chaos's power loss). Its
# page cache and control socket are a library without FUSE, so the unit tests reach them.
LOSSYFS_LIB := $(BUILD)/liblossyfs.a
FUSE_CFLAGS := $(shell pkg-config --cflags fuse3 2>/dev/null)
FUSE_LIBS := $(shell pkg-config --libs fuse3 2>/dev/null)
ALL_LIBS := $(CHAOS_LIB) $(LOADGEN_LIB) $(TASKD_LIB) $(LOSSYFS_LIB) $(COMMON_LIB)
BINS := $(BUILD)/bin/taskd $(BUILD)/bin/loadgen $(BUILD)/bin/chaos $(BUILD)/bin/lossyfs
# The dashboard validator is Node.js (the PromQL/LogQL grammars live on npm): build/bin/validator
# is a launcher that installs its pinned packages on first use and runs it.
VALIDATOR := $(BUILD)/bin/validator

TEST_SUPPORT := $(patsubst %.c,$(BUILD)/obj/%.o,$(wildcard tests/support/*.c))
UNIT_SRC := $(wildcard tests/unit/*/test_*.c)
UNIT_BIN := $(patsubst tests/unit/%.c,$(BUILD)/tests/unit/%,$(UNIT_SRC))
E2E_SUPPORT := $(wildcard tests/e2e/*.c)
E2E_SRC := $(wildcard tests/e2e/*/test_*.c)
E2E_BIN := $(patsubst tests/e2e/%.c,$(BUILD)/tests/e2e/%,$(E2E_SRC))
FUZZ_SRC := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_REPLAY := $(patsubst tests/fuzz/%.c,$(BUILD)/tests/fuzz/%_replay,$(FUZZ_SRC))
TEST_BINS := $(UNIT_BIN) $(E2E_BIN) $(FUZZ_REPLAY)

.PHONY: all test test-one tests deps k8s bench run demo fuzz format format-check clean FORCE

all: $(BUILD)/layout.ok $(BINS) $(VALIDATOR)

# An object gets the include paths of its folder (see INCLUDES_* above).
$(BUILD)/obj/%.o: %.c | $(BUILD)/gen/assets.h $(BUILD)/gen/chaos_experiments.h
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(call includes_of,$<) $(ALL_CFLAGS) -MMD -MP -c $< -o $@

# The rules the include paths cannot enforce (scripts/check_layout.py): a module includes
# headers by name only ("../service/store.h" would walk around its paths), and no include cycle
# joins the concepts of a module. Needs python3 (make deps); a build without it says so.
$(BUILD)/layout.ok: $(MODULE_SOURCES) scripts/check_layout.py
	@mkdir -p $(dir $@)
	@if command -v python3 >/dev/null 2>&1; then \
		scripts/check_layout.py $(MODULE_SOURCES) && touch $@; \
	else \
		echo 'layout: python3 is not installed, so the layout is not checked (make deps)' >&2; \
	fi

# The version lives in one object, rebuilt when the git description changes (the stamp file is
# rewritten only then), so a binary never reports two versions.
$(BUILD)/version.stamp: FORCE
	@mkdir -p $(dir $@)
	@echo '$(VERSION)' | cmp -s - $@ || echo '$(VERSION)' > $@

$(BUILD)/obj/common/version.o: common/version.c $(BUILD)/version.stamp
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(INCLUDES_common) $(ALL_CFLAGS) -DTASKBENCH_VERSION='"$(VERSION)"' -MMD -MP \
		-c $< -o $@

FORCE:

$(BUILD)/gen/assets.c: $(ASSET_FILES) scripts/embed_assets.sh
	@mkdir -p $(dir $@)
	scripts/embed_assets.sh $(BUILD)/gen $(ASSET_FILES)

$(BUILD)/gen/assets.h: $(BUILD)/gen/assets.c

$(ASSET_OBJ): $(BUILD)/gen/assets.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -c $< -o $@

$(BUILD)/gen/chaos_experiments.c: $(EXPERIMENT_FILES) scripts/embed_assets.sh
	@mkdir -p $(dir $@)
	scripts/embed_assets.sh --name chaos_experiments $(BUILD)/gen $(EXPERIMENT_FILES)

$(BUILD)/gen/chaos_experiments.h: $(BUILD)/gen/chaos_experiments.c

$(EXPERIMENTS_OBJ): $(BUILD)/gen/chaos_experiments.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -c $< -o $@

$(COMMON_LIB): $(call module_objs,common) $(ASSET_OBJ)
$(TASKD_LIB): $(call module_objs,service)
$(LOADGEN_LIB): $(call module_objs,loadgen)
$(CHAOS_LIB): $(call module_objs,chaos) $(EXPERIMENTS_OBJ)
$(LOSSYFS_LIB): $(call module_objs,lossyfs)
$(ALL_LIBS):
	@rm -f $@
	$(AR) rcs $@ $^

$(BUILD)/obj/lossyfs/main.o: ALL_CFLAGS += $(FUSE_CFLAGS)

$(BUILD)/bin/lossyfs: $(BUILD)/obj/lossyfs/main.o $(LOSSYFS_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) $^ $(FUSE_LIBS) -o $@

$(BUILD)/bin/taskd: $(BUILD)/obj/service/main.o $(TASKD_LIB) $(COMMON_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) $^ $(LIBS) -o $@

$(BUILD)/bin/loadgen: $(BUILD)/obj/loadgen/main.o $(LOADGEN_LIB) $(COMMON_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) $^ $(LIBS) -o $@

$(BUILD)/bin/chaos: $(BUILD)/obj/chaos/main.o $(CHAOS_LIB) $(LOADGEN_LIB) $(LOSSYFS_LIB) $(COMMON_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) $^ $(LIBS) -o $@

$(VALIDATOR): dashboards/validator/launcher.sh
	@mkdir -p $(dir $@)
	sed 's|@VALIDATOR_DIR_FROM_BIN@|'"$$(realpath -m --relative-to=$(dir $@) dashboards/validator)"'|' $< >$@
	chmod +x $@

$(BUILD)/tests/unit/%: $(BUILD)/obj/tests/unit/%.o $(TEST_SUPPORT) $(ALL_LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) $^ $(LIBS) -lcmocka -o $@

$(BUILD)/tests/e2e/%: $(BUILD)/obj/tests/e2e/%.o $(patsubst %.c,$(BUILD)/obj/%.o,$(E2E_SUPPORT)) \
		$(TEST_SUPPORT) $(ALL_LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) $^ $(LIBS) -lcmocka -o $@

$(BUILD)/tests/fuzz/%_replay: $(BUILD)/obj/tests/fuzz/%.o $(BUILD)/obj/tests/fuzz/replay_main.o \
		$(TASKD_LIB) $(LOADGEN_LIB) $(COMMON_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) $^ $(LIBS) -o $@

# Everything the test runner needs, in this build flavour, and the list of test programs it
# runs (so a binary left over from a renamed test never runs).
tests: $(BUILD)/layout.ok $(BINS) $(VALIDATOR) $(TEST_BINS)
	@mkdir -p $(BUILD)/tests
	@printf '%s\n' $(TEST_BINS) >$(BUILD)/tests/list

# make demo and make test install what is missing first (scripts/deps.sh: apt-get and npm ci as
# root; otherwise it prints the one apt-get line to run and stops), then build in a new make,
# which reads the pkg-config flags of what was just installed.

# The whole suite: a plain build, then the same tests under ASan+UBSan. Ends with
# "N passed, N failed, N skipped".
test:
	@scripts/deps.sh "make test"
	@tests/run_all.sh

# One flavour only (used by tests/run_all.sh): make test-one [SANITIZE=address,undefined]
test-one: tests
	@tests/run_suite.sh $(BUILD)

deps:
	@scripts/deps.sh

# deploy/k8s's monitoring objects, generated from stack/prometheus/rules and dashboards/; commit
# the result (tests/k8s/test_manifests.sh fails while it differs from the sources).
k8s:
	@deploy/k8s/generate.sh

BENCH_SRC := $(wildcard tests/bench/*.c)
BENCH_BIN := $(patsubst tests/bench/%.c,$(BUILD)/bench/%,$(BENCH_SRC))

$(BUILD)/bench/%: $(BUILD)/obj/tests/bench/%.o $(BUILD)/obj/tests/support/task_fill.o $(ALL_LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) $^ $(LIBS) -o $@

# Like make test, it installs what is missing first (wrk, nginx, hey), then builds in a new make.
bench:
	@scripts/deps.sh "make bench"
	@$(MAKE) --no-print-directory all $(BENCH_BIN)
	@tests/bench/run.sh $(BUILD)
	@tests/bench/loadgen.sh $(BUILD)

run: all
	$(BUILD)/bin/taskd --listen 127.0.0.1:5000 --db ./data/tasks.db

demo:
	@scripts/deps.sh "make demo"
	@$(MAKE) --no-print-directory all
	@scripts/demo.sh $(BUILD)

# Coverage-guided fuzzing with clang's libFuzzer (not part of make test; the corpus is).
FUZZ_SECONDS ?= 60
fuzz:
	@scripts/fuzz.sh $(FUZZ_SECONDS)

format:
	clang-format -i $(FORMATTED)

# Fails, naming the files, when one is not as clang-format (.clang-format) would write it.
# tests/style/test_format.sh runs it in make test, so CI (.ci/run) fails on unformatted code.
format-check:
	@bad=$$(printf '%s\n' $(FORMATTED) | xargs -P2 -n32 clang-format --dry-run 2>&1 \
		| sed -n 's/^\([^:]*\.[ch]\):[0-9]*:[0-9]*: .*/\1/p' | sort -u); \
	if [ -n "$$bad" ]; then \
		echo "not formatted as .clang-format says (run make format):" $$bad; exit 1; \
	fi

clean:
	rm -rf build

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
