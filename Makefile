# Loom build and test entry points. `make test` is what CI runs (.ci/run).
GO ?= go

.PHONY: test vet gotest fmt-check

## test: everything CI checks — formatting, vet, the Go tests.
test: fmt-check vet gotest

fmt-check:
	@out=$$(git ls-files '*.go' | xargs -r gofmt -l); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

gotest:
	$(GO) test ./...
