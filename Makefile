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
ALL_CFLAGS := -std=c17 -D_GNU_SOURCE $(WARNINGS) -pthread -Icommon -Iservice -Iloadgen -Ichaos -Ilossyfs -Itests/support -I$(BUILD)/gen \
	$(shell pkg-config --cflags $(PKGS) 2>/dev/null) $(CFLAGS)
ALL_LDFLAGS := -pthread $(LDFLAGS)
LIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lm
ifneq ($(SANITIZE),)
ALL_CFLAGS += -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all
ALL_LDFLAGS += -fsanitize=$(SANITIZE)
endif

COMMON_SRC := $(wildcard common/*.c)
SERVICE_SRC := $(filter-out service/main.c,$(wildcard service/*.c))
# Files under common/assets/ (the HTML reports' scripts and styles) are compiled in as byte
# arrays, so a report is one self-contained file and the binaries need nothing at run time.
ASSET_FILES := $(sort $(wildcard common/assets/*))
ASSET_OBJ := $(BUILD)/obj/gen/assets.o
LIB_OBJ := $(patsubst %.c,$(BUILD)/obj/%.o,$(COMMON_SRC) $(SERVICE_SRC)) $(ASSET_OBJ)
LIB := $(BUILD)/libtaskbench.a
# loadgen's engine, reports and audit, and chaos's experiments: libraries, so chaos drives
# load with loadgen's engine and the unit tests reach every module.
LOADGEN_OBJ := $(patsubst %.c,$(BUILD)/obj/%.o,$(filter-out loadgen/main.c,$(wildcard loadgen/*.c)))
LOADGEN_LIB := $(BUILD)/libloadgen.a
CHAOS_OBJ := $(patsubst %.c,$(BUILD)/obj/%.o,$(filter-out chaos/main.c,$(wildcard chaos/*.c)))
CHAOS_LIB := $(BUILD)/libchaos.a
# lossyfs: the FUSE file system that loses unsynced writes on command (chaos's power loss). Its
# page cache and control socket are a library without FUSE, so the unit tests reach them.
LOSSYFS_OBJ := $(patsubst %.c,$(BUILD)/obj/%.o,$(filter-out lossyfs/main.c,$(wildcard lossyfs/*.c)))
LOSSYFS_LIB := $(BUILD)/liblossyfs.a
FUSE_CFLAGS := $(shell pkg-config --cflags fuse3 2>/dev/null)
FUSE_LIBS := $(shell pkg-config --libs fuse3 2>/dev/null)
ALL_LIBS := $(CHAOS_LIB) $(LOADGEN_LIB) $(LOSSYFS_LIB) $(LIB)
BINS := $(BUILD)/bin/taskd $(BUILD)/bin/loadgen $(BUILD)/bin/chaos $(BUILD)/bin/lossyfs
# The dashboard validator is Node.js (the PromQL/LogQL grammars live on npm): build/bin/validator
# is a launcher that installs its pinned packages on first use and runs it.
VALIDATOR := $(BUILD)/bin/validator

TEST_SUPPORT := $(patsubst %.c,$(BUILD)/obj/%.o,$(wildcard tests/support/*.c))
UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(patsubst tests/unit/%.c,$(BUILD)/tests/unit/%,$(UNIT_SRC))
E2E_SUPPORT := $(filter-out tests/e2e/test_%.c,$(wildcard tests/e2e/*.c))
E2E_SRC := $(wildcard tests/e2e/test_*.c)
E2E_BIN := $(patsubst tests/e2e/%.c,$(BUILD)/tests/e2e/%,$(E2E_SRC))
FUZZ_SRC := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_REPLAY := $(patsubst tests/fuzz/%.c,$(BUILD)/tests/fuzz/%_replay,$(FUZZ_SRC))
TEST_BINS := $(UNIT_BIN) $(E2E_BIN) $(FUZZ_REPLAY)

.PHONY: all test test-one tests deps k8s bench run demo fuzz format clean FORCE

all: $(BINS) $(VALIDATOR)

# Every object may include the generated assets.h.
$(BUILD)/obj/%.o: %.c | $(BUILD)/gen/assets.h
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -MMD -MP -c $< -o $@

# The version lives in one object, rebuilt when the git description changes (the stamp file is
# rewritten only then), so a binary never reports two versions.
$(BUILD)/version.stamp: FORCE
	@mkdir -p $(dir $@)
	@echo '$(VERSION)' | cmp -s - $@ || echo '$(VERSION)' > $@

$(BUILD)/obj/common/version.o: common/version.c $(BUILD)/version.stamp
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -DTASKBENCH_VERSION='"$(VERSION)"' -MMD -MP -c $< -o $@

FORCE:

$(BUILD)/gen/assets.c: $(ASSET_FILES) scripts/embed_assets.sh
	@mkdir -p $(dir $@)
	scripts/embed_assets.sh $(BUILD)/gen $(ASSET_FILES)

$(BUILD)/gen/assets.h: $(BUILD)/gen/assets.c

$(ASSET_OBJ): $(BUILD)/gen/assets.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -c $< -o $@

$(LIB): $(LIB_OBJ)
	@rm -f $@
	$(AR) rcs $@ $^

$(LOADGEN_LIB): $(LOADGEN_OBJ)
	@rm -f $@
	$(AR) rcs $@ $^

$(CHAOS_LIB): $(CHAOS_OBJ)
	@rm -f $@
	$(AR) rcs $@ $^

$(LOSSYFS_LIB): $(LOSSYFS_OBJ)
	@rm -f $@
	$(AR) rcs $@ $^

$(BUILD)/obj/lossyfs/main.o: ALL_CFLAGS += $(FUSE_CFLAGS)

$(BUILD)/bin/lossyfs: $(BUILD)/obj/lossyfs/main.o $(LOSSYFS_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) $^ $(FUSE_LIBS) -o $@

$(BUILD)/bin/taskd: $(BUILD)/obj/service/main.o $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) $^ $(LIBS) -o $@

$(BUILD)/bin/loadgen: $(BUILD)/obj/loadgen/main.o $(LOADGEN_LIB) $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) $^ $(LIBS) -o $@

$(BUILD)/bin/chaos: $(BUILD)/obj/chaos/main.o $(CHAOS_LIB) $(LOADGEN_LIB) $(LOSSYFS_LIB) $(LIB)
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

$(BUILD)/tests/fuzz/%_replay: $(BUILD)/obj/tests/fuzz/%.o $(BUILD)/obj/tests/fuzz/replay_main.o $(LOADGEN_LIB) $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) $^ $(LIBS) -o $@

# Everything the test runner needs, in this build flavour, and the list of test programs it
# runs (so a binary left over from a renamed test never runs).
tests: $(BINS) $(VALIDATOR) $(TEST_BINS)
	@mkdir -p $(BUILD)/tests
	@printf '%s\n' $(TEST_BINS) >$(BUILD)/tests/list

# The whole suite: a plain build, then the same tests under ASan+UBSan. Ends with
# "N passed, N failed, N skipped".
test:
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

$(BUILD)/bench/%: $(BUILD)/obj/tests/bench/%.o $(ALL_LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) $^ $(LIBS) -o $@

bench: all $(BENCH_BIN)
	@tests/bench/run.sh $(BUILD)
	@tests/bench/loadgen.sh $(BUILD)

run: all
	$(BUILD)/bin/taskd --listen 127.0.0.1:5000 --db ./data/tasks.db

demo: all
	@scripts/demo.sh $(BUILD)

# Coverage-guided fuzzing with clang's libFuzzer (not part of make test; the corpus is).
FUZZ_SECONDS ?= 60
fuzz:
	@scripts/fuzz.sh $(FUZZ_SECONDS)

format:
	clang-format -i $(wildcard common/*.[ch] service/*.[ch] loadgen/*.[ch] chaos/*.[ch] lossyfs/*.[ch] tests/*/*.[ch])

clean:
	rm -rf build

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
