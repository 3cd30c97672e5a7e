GO ?= go
BIN := bin/vacationd
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo devel)
COMMIT ?= $(shell git rev-parse HEAD 2>/dev/null || echo unknown)
LDFLAGS := -X main.linkVersion=$(VERSION) -X main.linkCommit=$(COMMIT)
# Installation (make install; DESTDIR for staging) and the Debian package.
PREFIX ?= /usr
SYSTEMDDIR ?= /lib/systemd/system
DEB_VERSION ?= 0.1.0+git$(shell git log -1 --format=%cd --date=format:%Y%m%d%H%M 2>/dev/null).$(shell git rev-parse --short=12 HEAD 2>/dev/null || echo 0)
# nfpm 2.45.0: later releases need go.digitalxero.dev modules the Go proxy refuses.
NFPM ?= $(GO) run github.com/goreleaser/nfpm/v2/cmd/nfpm@v2.45.0

.PHONY: all build man install deb test vet fmt-check run e2e chaos bench bench-peers bench-gosieve svtest fuzz difftest difftest-local image clean

all: build

build:
	$(GO) build -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/vacationd

# The man page is generated from the serve flag definitions.
man: build
	./$(BIN) man | gzip -9n > bin/vacationd.8.gz

# Binary, systemd unit, man page, and the default config unless one exists.
install: man
	install -D -m 0755 $(BIN) $(DESTDIR)$(PREFIX)/bin/vacationd
	install -d $(DESTDIR)$(SYSTEMDDIR)
	sed 's|/usr/bin/vacationd|$(PREFIX)/bin/vacationd|' deploy/vacationd.service > $(DESTDIR)$(SYSTEMDDIR)/vacationd.service
	chmod 0644 $(DESTDIR)$(SYSTEMDDIR)/vacationd.service
	install -D -m 0644 bin/vacationd.8.gz $(DESTDIR)$(PREFIX)/share/man/man8/vacationd.8.gz
	install -D -m 0644 deploy/vacation.sieve $(DESTDIR)$(PREFIX)/share/doc/vacationd/examples/vacation.sieve
	@if [ -e $(DESTDIR)/etc/vacationd/vacationd.toml ]; then \
		echo "keeping the existing $(DESTDIR)/etc/vacationd/vacationd.toml"; \
	else \
		install -D -m 0644 deploy/vacationd.toml $(DESTDIR)/etc/vacationd/vacationd.toml; \
	fi

# dist/vacationd_<version>_<arch>.deb, built by nfpm (deploy/debian/nfpm.yaml).
deb:
	mkdir -p bin/deb dist
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '-s -w $(LDFLAGS)' -o bin/deb/vacationd ./cmd/vacationd
	bin/deb/vacationd man | gzip -9n > bin/deb/vacationd.8.gz
	rm -f dist/vacationd_*.deb
	DEB_VERSION='$(DEB_VERSION)' DEB_ARCH=$$($(GO) env GOARCH) $(NFPM) package \
		--config deploy/debian/nfpm.yaml --packager deb --target dist/

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...
	$(GO) vet -tags 'e2e chaos' ./e2e/...

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
	python3 ../shared/difftest/difftest.py --vacationd $(BIN) ../shared/realworld

# Our own cases (testdata/difftest), judged the same way against sieve-test.
difftest-local: build
	python3 ../shared/difftest/difftest.py --vacationd $(BIN) testdata/difftest

# kill -9 in a loop under a load of distinct senders, with relay outages
# answering 4xx and 5xx; fails on a lost or unexplained duplicate reply.
# CHAOS_ROUNDS rounds of about a second each (.ci/run runs a short form).
CHAOS_ROUNDS ?= 40
chaos:
	VACATIOND_CHAOS_ROUNDS=$(CHAOS_ROUNDS) $(GO) test -count=1 -timeout 15m -tags 'e2e chaos' -run '^TestChaos$$' ./e2e/

e2e: build
	$(GO) test -count=1 -tags e2e ./e2e/...

bench: build
	$(GO) test -run '^$$' -bench . -benchmem ./...
	./bench/lmtp.sh ./$(BIN)
	$(GO) build -o bin/lmtpload ./bench/lmtpload
	./bench/state.sh ./$(BIN) bin/lmtpload

# Container image localhost/vacationd:latest (Containerfile; podman, or
# CONTAINER=docker). PODMAN_FLAGS e.g. "--runtime runc".
CONTAINER ?= podman
IMAGE ?= localhost/vacationd:latest
image:
	GO=$(GO) LDFLAGS='$(LDFLAGS)' ./deploy/image/stage.sh bin/image
	$(CONTAINER) $(PODMAN_FLAGS) build $(if $(filter podman,$(CONTAINER)),--format docker) -t $(IMAGE) -f Containerfile bin/image

# vacationd against Dovecot + Pigeonhole and smtp-sink, interleaved (bench/peers.sh).
bench-peers: build
	$(GO) build -o bin/lmtpload ./bench/lmtpload
	./bench/peers.sh ./$(BIN) bin/lmtpload

# Our Sieve engine beside foxcpp/go-sieve: make bench-gosieve GOSIEVE=DIR (a checkout).
bench-gosieve:
	./bench/gosieve.sh $(GOSIEVE)

clean:
	rm -rf bin data dist
