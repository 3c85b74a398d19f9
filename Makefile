# clawwarden build targets. The test suite is ./scripts/test.
.PHONY: build man dist test clean

build:
	CGO_ENABLED=0 go build -trimpath -o clawwarden ./cmd/clawwarden
	CGO_ENABLED=0 go build -trimpath -o clawwarden-root ./cmd/clawwarden-root
	CGO_ENABLED=0 go build -trimpath -o clawwarden-sudo ./cmd/clawwarden-sudo

# Man pages, generated from the command definitions (checked by
# TestManPagesUpToDate).
man:
	rm -f docs/man/*.1
	go run ./internal/cli/mangen docs/man

# Static, reproducible release binaries for linux/darwin × amd64/arm64 with
# SHA-256 checksums, in dist/.
dist:
	./scripts/dist

test:
	./scripts/test

clean:
	rm -rf dist clawwarden clawwarden-root clawwarden-sudo
