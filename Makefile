# Thin wrappers over scripts/; see DEVELOPERS.md.
#   make dev                       run the whole stack locally (Ctrl-C stops it)
#   make test                      gofmt, vet, staticcheck, go test -race ./...
#   make test ARGS='-short'        extra go test flags and/or packages
#   make faults                    fault suite at full size (kills, restarts, outages) and every fuzz target
#   make bench                     webhook→text vs bare engine, audit log and codec; writes docs/performance.md
#   make build                     bin/worker bin/starter bin/ringback
#   make lint                      gofmt, vet, staticcheck
#   make clean                     remove bin/ and .dev/ (refuses while make dev runs)

SHELL := bash
.SHELLFLAGS := -euo pipefail -c
export GOTOOLCHAIN := local

ARGS ?=

.PHONY: dev test faults bench build lint clean

dev:
	scripts/dev.sh

test:
	scripts/test.sh $(ARGS)

faults:
	scripts/faults.sh $(ARGS)

bench:
	scripts/bench.sh $(ARGS)

build:
	. scripts/lib.sh && rb_build

lint:
	scripts/test.sh --lint-only

clean:
	@if [[ -f .dev/dev.pid ]] && kill -0 "$$(cat .dev/dev.pid)" 2>/dev/null; then \
		echo "make dev is running (pid $$(cat .dev/dev.pid)); stop it before make clean" >&2; exit 1; \
	fi
	@if [[ -f .dev/env ]]; then \
		. scripts/lib.sh; url=$$(. .dev/env && printf '%s' "$$DATABASE_URL"); \
		echo "note: the dev database $$(rb_url_redact "$$url") is kept. Its phone hashes were made"; \
		echo "with the RINGBACK_PHONE_HASH_KEY in .dev/env, which is about to be removed; drop it for a clean start."; \
	fi
	rm -rf -- ./bin ./.dev
