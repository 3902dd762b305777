# Loom build and test entry points. `make test` is what CI runs (.ci/run).
GO ?= go

.PHONY: test vet gotest fmt-check

## test: everything CI checks: formatting, vet, the Go tests, the same
## audit hashes on the fast determinism targets, then real Godot 4.6.3
## running the GDScript suite and the exported demo.
test: fmt-check vet gotest determinism-fast godot-test

fmt-check:
	@out=$$(git ls-files '*.go' | xargs -r gofmt -l); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

gotest:
	$(GO) test ./...

.PHONY: determinism determinism-fast

## determinism-fast: `loom verify` gives equal hashes on amd64 (assembly,
## GOAMD64=v3, pure-Go kernels at v1 and v3), GOMAXPROCS 1/2/7, --threads
## 1/2/3, js/wasm and wasip1 on the committed models, and no Loom function
## has a fused multiply-add on arm64 (~1 min with a warm build cache; node).
determinism-fast:
	GO=$(GO) ci/determinism.sh --fast

## determinism: the same plus linux/arm64 and android/arm64 under qemu,
## windows/amd64 under Wine and a SmolLM2-135M-shaped model, then the same
## reply and audit hashes from Loom in amd64 and arm64 Godot (slow; root).
determinism:
	GO=$(GO) ci/determinism.sh
	GO=$(GO) ci/godot/arm64_test.sh

## Godot: the GDExtension, the addon, the demo and the Godot test suite
## (ci/godot/). Godot 4.6.3 comes from a cached Debian sid root
## (ci/godot/provision.sh, LOOM_GODOT_ROOT, default /var/cache/loom/godot).

# DEMO_MODEL is the model the demo's wizard speaks with: Eldric, the
# Loom-trained wizard (ci/demo-model/) bundled in demo_project/models/wizard.
# Another model folder is copied over it; the one place to change it.
DEMO_MODEL ?= demo_project/models/wizard

.PHONY: run

## run: talk to the bundled wizard from the command line.
run:
	$(GO) run ./cmd/loom run --chat $(DEMO_MODEL) "Greetings, wizard! Who are you?" --temp 0.7 --seed 1 --max-tokens 80

.PHONY: addon addon-all demo godot-test frame-impact

## frame-impact: two NPCs generating must grow the p99 gap between frames by
## at most 2 ms over the idle baseline.
frame-impact: addon
	ci/godot/provision.sh
	ci/godot/test.sh frame_impact

## addon: build the GDExtension for this machine into addons/loom/bin.
addon:
	GO=$(GO) ci/godot/build_addon.sh

## addon-all: also linux/arm64 and windows/amd64 (cross compilers via apt-get).
addon-all:
	GO=$(GO) ci/godot/build_addon.sh all

## demo: build everything and open the demo: in a window with a display,
## else headless as a scripted conversation that prints the wizard's replies.
demo: addon
	ci/godot/provision.sh
	ci/godot/prepare_demo.sh $(DEMO_MODEL)
	@if [ -n "$$DISPLAY$$WAYLAND_DISPLAY" ]; then \
		ci/godot/godot.sh --path demo_project; \
	else \
		ci/godot/godot.sh --headless --path demo_project -- --scripted; \
	fi

## godot-test: provision Godot, build the addon, run the GDScript suite
## headless (and the editor plugin and class reference checks), then export
## the demo for Linux and check the exported game answers from its .pck.
# The frame-impact test runs here with its 2 ms budget for p99 frame-gap
# growth (LOOM_FRAME_BUDGET_US overrides it); `make frame-impact` runs it
# alone.
godot-test: addon
	ci/godot/provision.sh
	ci/godot/test.sh
	ci/godot/export_test.sh $(DEMO_MODEL)
	ci/godot/presets_test.sh $(DEMO_MODEL)
