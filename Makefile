# Thin wrapper over CMake for the README commands.
#   make        build (release, build/)
#   make test   install deps, build release + ASan/UBSan, run every ctest label
#   make demo   build and run the demo (see README.md)
#   make bench  guest MIPS and, later, boot time against QEMU TCG
BUILD  ?= build
ASAN   ?= build-asan
JOBS   ?= $(shell nproc)

.PHONY: all deps build asan test demo bench clean format

all: build

deps:
	@sh scripts/deps.sh

build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

asan: deps
	@cmake -S . -B $(ASAN) -DCMAKE_BUILD_TYPE=Debug -DNESTBOX_SANITIZE=ON >/dev/null
	@cmake --build $(ASAN) -j $(JOBS)

test: build asan
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS) -LE known-issue
	cd $(ASAN) && ctest --output-on-failure -j $(JOBS) -L 'unit|guest'

demo: build
	@sh scripts/demo.sh $(BUILD)

bench: build
	@sh scripts/deps.sh bench
	@sh bench/run.sh $(BUILD)

format:
	@clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(BUILD) $(ASAN)
