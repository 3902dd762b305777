package main

import (
	"sync"

	"github.com/loomai/loom/extension/gd"
)

// maxTokensPerFrame bounds the token signals one NPC emits per frame, so a
// fast model cannot make a frame long; the rest follow on the next frames.
const maxTokensPerFrame = 32

// ticker is an object with work for the main thread: signals to emit.
type ticker interface {
	// tick runs on the main thread once per frame while the object is
	// awake; it returns true to stay awake for the next frame.
	tick() bool
}

// awake lists the objects to tick next frame, in the order they woke, so
// that signals of different objects come in a reproducible order. Workers
// and loader threads wake objects; the frame callback drains the list.
var awake struct {
	sync.Mutex
	list []ticker
	in   map[ticker]bool
}

// wake schedules t for the next frame. Safe from any goroutine.
func wake(t ticker) {
	awake.Lock()
	defer awake.Unlock()
	if awake.in == nil {
		awake.in = make(map[ticker]bool)
	}
	if !awake.in[t] {
		awake.in[t] = true
		awake.list = append(awake.list, t)
	}
}

// frame is the main-loop frame callback: it runs after every node's
// _process, on the main thread.
func frame() {
	awake.Lock()
	list := awake.list
	awake.list = nil
	clear(awake.in)
	awake.Unlock()
	for _, t := range list {
		if t.tick() {
			wake(t)
		}
	}
}

// event is a signal waiting to be emitted.
type event struct {
	signal string
	args   []any
}

// emit emits e on obj, reporting (not raising) a failure.
func emit(obj gd.Object, e event) {
	if err := obj.EmitSignal(e.signal, e.args...); err != nil {
		gd.PrintError("Loom", err.Error())
	}
}

// Godot's Error codes the Loom methods return.
const (
	errOK               = 0
	errFailed           = 1
	errUnconfigured     = 3
	errUnauthorized     = 4
	errFileNotFound     = 7
	errFileUnrecognized = 15
	errFileCorrupt      = 16
	errInvalidParameter = 31
	errBusy             = 44
)
