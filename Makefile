# Two commands for a newcomer: `make demo` (the main job) and `make test` (the test suite).
SWIFT ?= swift
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
RELEASE_FLAGS := -c release
TEST_FLAGS := -c release -Xswiftc -enable-testing
DEMO_MINUTES ?= 1

.PHONY: demo demo-mpi test deps build fixtures fuzz clean
.PHONY: docs consumer
.PHONY: kernel-emulation-test kernel-emulation-check

## Installs OpenBLAS, Open MPI and HDF5 (Keras import) when pkg-config cannot find them (Debian/Ubuntu).
deps:
	@pkg-config --exists openblas 2>/dev/null && pkg-config --exists ompi-c 2>/dev/null && command -v mpirun >/dev/null || { \
	  echo "Installing libopenblas-dev, libopenmpi-dev, openmpi-bin (and pkg-config)…"; \
	  $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq libopenblas-dev libopenmpi-dev openmpi-bin pkg-config; }
	@pkg-config --exists hdf5 2>/dev/null || { echo "Installing libhdf5-dev…"; \
	  $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq libhdf5-dev pkg-config; }
	@[ -d /usr/include/simde ] || [ "$$(uname -m)" != x86_64 ] || { echo "Installing libsimde-dev (AVX-512 emulation test)…"; \
	  $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq libsimde-dev; }

build: deps
	$(SWIFT) build $(RELEASE_FLAGS) --product recurrent

## Trains a character-level LSTM on Tiny Shakespeare for about a minute, then prints a sample.
demo: build
	.build/release/recurrent train charlm --data Examples/data/tinyshakespeare/input.txt \
	  --minutes $(DEMO_MINUTES) --out runs/demo
	.build/release/recurrent sample --checkpoint runs/demo/best.safetensors \
	  --prime "ROMEO:" --length 400 --temperature 0.8 --seed 1

## Builds optimised (numeric code is slow in debug) and runs every test; then ONNX Runtime runs the exported
## models the tests wrote (Scripts/check_onnx.py, docs/ONNX.md) when $(PYTHON) has onnx and onnxruntime.
ONNX_CASES := .build/onnx-cases
test: deps
	$(SWIFT) build --build-tests $(TEST_FLAGS)
	rm -rf $(ONNX_CASES)
	RECURRENT_ONNX_CASES="$(CURDIR)/$(ONNX_CASES)" $(SWIFT) test --skip-build $(TEST_FLAGS)
	@if $(PYTHON) -c 'import onnx, onnxruntime, numpy' 2>/dev/null; then $(PYTHON) Scripts/check_onnx.py $(ONNX_CASES); \
	else echo "ONNX Runtime check skipped: $(PYTHON) has no onnx, onnxruntime and numpy (make test PYTHON=/path/to/venv/bin/python)"; fi

## Fuzzes every parser (libFuzzer + AddressSanitizer) for SECONDS each; see docs/RELIABILITY.md.
SECONDS ?= 60
fuzz: deps
	$(SWIFT) package resolve
	Scripts/fuzz.sh $(SECONDS)

## Regenerates the PyTorch fixtures (needs a Python with torch and safetensors: PYTHON=/path/to/venv/bin/python).
PYTHON ?= python3
fixtures:
	for s in Scripts/make_*_fixtures.py; do $(PYTHON) $$s || exit 1; done

## Trains the char-LM of `make demo` on 2 processes of this machine (data-parallel over MPI, docs/DISTRIBUTED.md).
demo-mpi: build
	OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 mpirun --oversubscribe -np 2 \
	  .build/release/recurrent train charlm --data Examples/data/tinyshakespeare/input.txt \
	  --minutes $(DEMO_MINUTES) --batch 16 --out runs/demo-mpi

clean:
	rm -rf .build runs/demo

## DocC documentation of the library (every module, the articles, the snippets) into .build/docs/Recurrent.doccarchive;
## reuses `make test`'s build, and prints how many public symbols have no doc comment (Scripts/docs.sh).
docs: deps
	Scripts/docs.sh

## The example app (Examples/Consumer): a separate package that depends on this one by path and uses only the public API;
## built in debug mode (a second copy of the library; debug compiles fastest), then run. `make test` runs it too.
consumer: deps
	$(SWIFT) build --package-path Examples/Consumer
	Examples/Consumer/.build/debug/Consumer
test: consumer

## The AVX-512 kernels compiled a second time against SIMD Everywhere (libsimde-dev: each 512-bit operation from two AVX2
## halves) and checked against the AVX2 kernels, bit for bit (Tests/KernelEmulation); needs an x86-64 with AVX2 + FMA.
## `make test` runs it where /usr/include/simde exists.
KERNEL_CC ?= clang
KERNELS := Sources/CRecurrentKernels
EMULATED_KERNELS := $(KERNELS)/avx512/GatesAVX512.c $(KERNELS)/avx512/SmallGEMMAVX512.c
REFERENCE_KERNELS := $(KERNELS)/avx2/GatesAVX2.c $(KERNELS)/avx2/SmallGEMMAVX2.c $(KERNELS)/InstructionSet.c
EMULATION := .build/kernel-emulation
kernel-emulation-test:
	@mkdir -p $(EMULATION)
	@for f in $(EMULATED_KERNELS); do \
	  $(KERNEL_CC) -O2 -ffp-contract=off -mavx2 -mfma -Wno-psabi -DRK_EMULATE_AVX512 -I$(KERNELS)/include -c $$f \
	    -o $(EMULATION)/$$(basename $$f .c).o || exit 1; done
	$(KERNEL_CC) -O2 -ffp-contract=off -I$(KERNELS)/include -o $(EMULATION)/kernel-emulation-test \
	  Tests/KernelEmulation/KernelEmulationTest.c $(REFERENCE_KERNELS) $(patsubst %.c,$(EMULATION)/%.o,$(notdir $(EMULATED_KERNELS))) -lm -lpthread
	$(EMULATION)/kernel-emulation-test
kernel-emulation-check:
	@if [ -d /usr/include/simde ] && [ "$$(uname -m)" = x86_64 ]; then $(MAKE) --no-print-directory kernel-emulation-test; \
	else echo "AVX-512 emulation test skipped: needs x86-64 and SIMD Everywhere (libsimde-dev)"; fi
test: kernel-emulation-check
## The AVX-512 VNNI / BF16 int8 and bf16 products (avx512/QuantizedAVX512.c) compiled against SIMD Everywhere and checked
## against the AVX2 ones (int8: bit for bit) and a Double reference (bf16); needs x86-64 with AVX2 + FMA.
## `make test` runs it where /usr/include/simde exists.
QUANT_CC ?= clang
QUANT_KERNELS := Sources/CRecurrentKernels
QUANT_EMULATION := .build/quantized-emulation
quantized-emulation-test:
	@mkdir -p $(QUANT_EMULATION)
	$(QUANT_CC) -O2 -ffp-contract=off -mavx2 -mfma -Wno-psabi -DRK_EMULATE_AVX512 -I$(QUANT_KERNELS)/include \
	  -c $(QUANT_KERNELS)/avx512/QuantizedAVX512.c -o $(QUANT_EMULATION)/QuantizedAVX512.o
	$(QUANT_CC) -O2 -ffp-contract=off -I$(QUANT_KERNELS)/include -o $(QUANT_EMULATION)/quantized-emulation-test \
	  Tests/KernelEmulation/QuantizedEmulationTest.c $(QUANT_KERNELS)/avx2/QuantizedAVX2.c $(QUANT_KERNELS)/avx2/GatesAVX2.c $(QUANT_KERNELS)/InstructionSet.c \
	  $(QUANT_EMULATION)/QuantizedAVX512.o -lm
	$(QUANT_EMULATION)/quantized-emulation-test
quantized-emulation-check:
	@if [ -d /usr/include/simde ] && [ "$$(uname -m)" = x86_64 ]; then $(MAKE) --no-print-directory quantized-emulation-test; \
	else echo "AVX-512 quantized emulation test skipped: needs x86-64 and SIMD Everywhere (libsimde-dev)"; fi
test: quantized-emulation-check
.PHONY: quantized-emulation-test quantized-emulation-check
