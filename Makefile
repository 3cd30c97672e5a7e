GO ?= go
BIN := bin/vacationd
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo devel)
COMMIT ?= $(shell git rev-parse HEAD 2>/dev/null || echo unknown)
LDFLAGS := -X main.linkVersion=$(VERSION) -X main.linkCommit=$(COMMIT)

.PHONY: all build test vet fmt-check run e2e bench bench-peers bench-gosieve svtest fuzz difftest difftest-local image clean

all: build

build:
	$(GO) build -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/vacationd

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...
	$(GO) vet -tags e2e ./e2e/...

test: fmt-check vet
	$(GO) test -race -count=1 ./...

run: build
	mkdir -p data
	./$(BIN) serve --lmtp 127.0.0.1:2424 --http 127.0.0.1:8025 --data ./data \
		--scripts ./testdata/scripts --extensions +vacation-seconds --relay 127.0.0.1:2525

svtest: build
	./$(BIN) svtest ../shared/conformance/pigeonhole/tests

fuzz:
	$(GO) test ./sieve -run '^$$' -fuzz FuzzCompile -fuzztime 60s

difftest: build
	python3 ../shared/difftest/difftest.py --vacationd $(BIN) ../shared/difftest/cases

# Our own cases (testdata/difftest), judged the same way against sieve-test.
difftest-local: build
	python3 ../shared/difftest/difftest.py --vacationd $(BIN) testdata/difftest

e2e: build
	$(GO) test -count=1 -tags e2e ./e2e/...

bench: build
	$(GO) test -run '^$$' -bench . -benchmem ./...
	./bench/lmtp.sh ./$(BIN)

# Container image localhost/vacationd:latest (Containerfile; podman, or
# CONTAINER=docker). PODMAN_FLAGS e.g. "--runtime runc".
CONTAINER ?= podman
IMAGE ?= localhost/vacationd:latest
image:
	GO=$(GO) ./deploy/image/stage.sh bin/image
	$(CONTAINER) $(PODMAN_FLAGS) build $(if $(filter podman,$(CONTAINER)),--format docker) -t $(IMAGE) -f Containerfile bin/image

# vacationd against Dovecot + Pigeonhole and smtp-sink, interleaved (bench/peers.sh).
bench-peers: build
	$(GO) build -o bin/lmtpload ./bench/lmtpload
	./bench/peers.sh ./$(BIN) bin/lmtpload

# Our Sieve engine beside foxcpp/go-sieve: make bench-gosieve GOSIEVE=DIR (a checkout).
bench-gosieve:
	./bench/gosieve.sh $(GOSIEVE)

clean:
	rm -rf bin data
