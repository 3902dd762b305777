// Package gd is a small, generic Go binding to Godot's GDExtension C
// interface (gdextension_interface.h of Godot 4.6, committed next to this
// file). It registers Go types as Godot classes with methods (both the Variant
// `call` path and the typed `ptrcall` path), properties and signals; converts
// between Go values and Variant, String, StringName, Array, Dictionary and
// packed arrays; calls engine methods; and reads files through Godot's
// FileAccess.
//
// Rules every user of the package must keep:
//   - Godot may only be called from the thread Godot called in on. Go code
//     running on its own goroutines (workers) must hand results to the main
//     thread (see OnFrame) instead of calling Godot. The one exception is
//     reading files through FileAccess (FS), one goroutine per open file,
//     as Godot's own threaded resource loading does.
//   - Every call from Godot into Go needs a free P (GOMAXPROCS slot); keep
//     CPU-bound goroutines below GOMAXPROCS or raise it.
//   - Panics never cross into Godot: every entry point recovers and reports
//     through Godot's error print.
package gd

//go:generate go run ./internal/gen -godot ../../ci/godot/godot.sh

/*
#cgo CFLAGS: -std=c11 -Wall -Wno-unused-parameter
#include <stdlib.h>
#include "shim.h"
*/
import "C"

import (
	"errors"
	"fmt"
	"os"
	"runtime/debug"
	"strings"
	"sync"
	"unsafe"
)

// InitLevel is one of Godot's initialization levels; the extension's setup
// runs once per level, in increasing order, and teardown in decreasing order.
type InitLevel int32

// The initialization levels (GDExtensionInitializationLevel).
const (
	LevelCore    InitLevel = C.GDEXTENSION_INITIALIZATION_CORE
	LevelServers InitLevel = C.GDEXTENSION_INITIALIZATION_SERVERS
	LevelScene   InitLevel = C.GDEXTENSION_INITIALIZATION_SCENE
	LevelEditor  InitLevel = C.GDEXTENSION_INITIALIZATION_EDITOR
)

// ErrInterface reports that Godot lacks an interface function or engine
// method the binding needs (a Godot older than the one the header came from).
var ErrInterface = errors.New("gd: Godot interface mismatch")

var (
	onInit, onDeinit func(InitLevel)
	onFrame          func()
)

// Init is called from the library's entry symbol with the three pointers
// Godot passed to it. It loads the interface and installs setup/teardown,
// which Godot calls at each level from minLevel on. It reports failure through
// Godot's error print and returns false, which makes Godot skip the library.
func Init(getProcAddress, library, initialization unsafe.Pointer, minLevel InitLevel, setup, teardown func(InitLevel)) bool {
	if missing := C.loom_gd_load(C.GDExtensionInterfaceGetProcAddress(getProcAddress), C.GDExtensionClassLibraryPtr(library)); missing != nil {
		// Without print_error we cannot report; stderr is what is left.
		fmt.Fprintf(os.Stderr, "loom: %v: Godot does not provide %s\n", ErrInterface, C.GoString(missing))
		return false
	}
	onInit, onDeinit = setup, teardown
	C.loom_gd_fill_init((*C.GDExtensionInitialization)(initialization), C.GDExtensionInitializationLevel(minLevel))
	return true
}

//export goInitialize
func goInitialize(level C.int32_t) {
	defer recoverBoundary("initialize")
	if onInit != nil {
		onInit(InitLevel(level))
	}
}

//export goDeinitialize
func goDeinitialize(level C.int32_t) {
	defer recoverBoundary("deinitialize")
	if onDeinit != nil {
		onDeinit(InitLevel(level))
	}
}

// OnFrame installs fn as the main-loop frame callback: Godot calls it on the
// main thread once per frame, after every node's _process. It is the place to
// hand worker results to Godot (emit signals). Call it during setup.
func OnFrame(fn func()) {
	onFrame = fn
	C.loom_gd_register_frame_callback()
}

//export goFrame
func goFrame() {
	defer recoverBoundary("frame")
	if onFrame != nil {
		onFrame()
	}
}

// LoadDocs hands class reference XML (Godot's doc_classes format) to the
// editor's help so F1 finds the extension's classes. It returns false where
// Godot has no editor (an exported game), which is not an error.
func LoadDocs(xml []byte) bool {
	if len(xml) == 0 {
		return false
	}
	p := C.CBytes(xml)
	defer C.free(p)
	return C.loom_gd_load_doc_xml((*C.char)(p), C.GDExtensionInt(len(xml))) != 0
}

// PrintError reports msg through Godot's error print (the Output panel, the
// debugger's Errors tab and stderr), like GDScript's push_error. where names
// the Go function or Godot method the error belongs to.
func PrintError(where, msg string) {
	// Godot prints description and message as C strings; NULs would cut them.
	msg = strings.ReplaceAll(msg, "\x00", `\0`)
	cmsg := C.CString(msg)
	defer C.free(unsafe.Pointer(cmsg))
	cwhere := C.CString(where)
	defer C.free(unsafe.Pointer(cwhere))
	file := C.CString("loom")
	defer C.free(unsafe.Pointer(file))
	C.loom_gd_print_error(cmsg, cmsg, cwhere, file, 0)
}

// recoverBoundary stops a panic at a Godot→Go entry point and reports it; a
// Go panic unwinding into C++ frames would take the whole game down.
func recoverBoundary(where string) {
	if r := recover(); r != nil {
		PrintError(where, fmt.Sprintf("internal error (recovered panic): %v\n%s", r, debug.Stack()))
	}
}

// names interns StringNames for the process lifetime. The extension can never
// be unloaded (Go c-shared libraries are NODELETE), so they are never freed.
var names struct {
	sync.Mutex
	m map[string]*C.uint64_t
}

// stringName returns a StringName for s that stays valid forever.
func stringName(s string) C.GDExtensionConstStringNamePtr {
	names.Lock()
	defer names.Unlock()
	if p, ok := names.m[s]; ok {
		return C.GDExtensionConstStringNamePtr(p)
	}
	if names.m == nil {
		names.m = make(map[string]*C.uint64_t)
	}
	p := (*C.uint64_t)(C.calloc(1, C.size_t(unsafe.Sizeof(C.uint64_t(0)))))
	cs := C.CString(s)
	defer C.free(unsafe.Pointer(cs))
	C.loom_gd_string_name_new(C.GDExtensionUninitializedStringNamePtr(p), cs, C.GDExtensionInt(len(s)))
	names.m[s] = p
	return C.GDExtensionConstStringNamePtr(p)
}

// handlePtr turns the address of a Godot object, held as an integer, into
// a pointer for C. Registry handles (small integers) must never go through
// it: Go rejects such values as pointers on a goroutine stack.
func handlePtr(h uintptr) unsafe.Pointer {
	return C.loom_gd_ptr(C.uintptr_t(h))
}
