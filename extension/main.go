// Command extension is Loom's GDExtension: a Go c-shared library that Godot
// loads through addons/loom/loom.gdextension. It exposes two classes:
// LoomModel, a Resource holding a loaded language model, and LoomNPC, a
// Node that holds a conversation and streams replies as signals.
//
// Threads: generation runs on goroutines (see package dialogue); Godot is
// only ever called from the thread that called in, and signals are emitted
// from the main loop's frame callback, a bounded number per NPC per frame.
//
// Build (make addon):
//
//	go build -buildmode=c-shared -o addons/loom/bin/libloom.linux.x86_64.so ./extension
package main

import "C"

import (
	"embed"
	"fmt"
	"io/fs"
	"os"
	"runtime"
	"unsafe"

	"github.com/loomai/loom/extension/gd"
)

// docs are the class reference pages the editor's help (F1) shows.
//
//go:embed doc_classes/*.xml
var docs embed.FS

// loom_library_init is the entry symbol named in loom.gdextension.
//
//export loom_library_init
func loom_library_init(getProcAddress, library, initialization unsafe.Pointer) C.uchar {
	if gd.Init(getProcAddress, library, initialization, gd.LevelScene, setup, teardown) {
		return 1
	}
	return 0
}

func setup(level gd.InitLevel) {
	switch level {
	case gd.LevelScene:
		raiseGOMAXPROCS()
		if err := gd.CheckInterface(); err != nil {
			gd.PrintError("Loom", fmt.Sprintf("Loom is not available: %v (this build targets Godot 4.6)", err))
			return
		}
		for _, c := range []*gd.Class{modelClass(), npcClass()} {
			if err := gd.Register(c); err != nil {
				gd.PrintError("Loom", err.Error())
				return
			}
		}
		gd.OnFrame(frame)
	case gd.LevelEditor:
		loadDocs()
	}
}

func teardown(level gd.InitLevel) {
	if level == gd.LevelScene {
		gd.UnregisterAll()
	}
}

// raiseGOMAXPROCS gives the Go runtime more Ps than inference can occupy.
// Every call from Godot into Go (a property read, the frame callback) needs
// a free P; with all of them busy in compute, the game's main thread would
// wait for the scheduler to preempt one (up to 10 ms). Inference uses at
// most runtime.NumCPU() goroutines (LoomModel clamps threads), so two more
// Ps keep the main thread's calls immediate. An explicit GOMAXPROCS
// environment variable wins.
func raiseGOMAXPROCS() {
	if os.Getenv("GOMAXPROCS") != "" {
		return
	}
	if want := runtime.NumCPU() + 2; runtime.GOMAXPROCS(0) < want {
		runtime.GOMAXPROCS(want)
	}
}

func loadDocs() {
	files, err := fs.Glob(docs, "doc_classes/*.xml")
	if err != nil {
		gd.PrintError("Loom docs", err.Error())
		return
	}
	for _, name := range files {
		data, err := docs.ReadFile(name)
		if err != nil {
			gd.PrintError("Loom docs", err.Error())
			continue
		}
		// The editor level only runs in the editor, which has a help.
		if !gd.LoadDocs(data) {
			gd.PrintError("Loom docs", "the editor did not take the class reference "+name)
		}
	}
}

func main() {}
