package gd

/*
#include "shim.h"
*/
import "C"

import (
	"fmt"
	"runtime"
	"sync"
	"unsafe"
)

// Object is a pointer to a Godot Object (GDExtensionObjectPtr); zero is null.
// It holds no reference: keep a Variant to keep a RefCounted object alive.
type Object uintptr

func (o Object) ptr() unsafe.Pointer { return handlePtr(uintptr(o)) }

// singleton returns an engine singleton such as "ProjectSettings".
func singleton(name string) Object {
	return Object(uintptr(unsafe.Pointer(C.loom_gd_singleton(stringName(name)))))
}

// methodBind is an engine class method, resolved on first use.
type methodBind struct {
	class, name string
	hash        int64
	once        sync.Once
	ptr         C.GDExtensionMethodBindPtr
}

var (
	objectEmitSignal             = methodBind{class: "Object", name: "emit_signal", hash: hashObjectEmitSignal}
	objectNotification           = methodBind{class: "Object", name: "notification", hash: hashObjectNotification}
	projectSettingsGlobalizePath = methodBind{class: "ProjectSettings", name: "globalize_path", hash: hashProjectSettingsGlobalizePath}
	fileAccessOpen               = methodBind{class: "FileAccess", name: "open", hash: hashFileAccessOpen}
	fileAccessGetOpenError       = methodBind{class: "FileAccess", name: "get_open_error", hash: hashFileAccessGetOpenError}
	fileAccessGetLength          = methodBind{class: "FileAccess", name: "get_length", hash: hashFileAccessGetLength}
	fileAccessSeek               = methodBind{class: "FileAccess", name: "seek", hash: hashFileAccessSeek}
	fileAccessFileExists         = methodBind{class: "FileAccess", name: "file_exists", hash: hashFileAccessFileExists}
	dirAccessDirExistsAbsolute   = methodBind{class: "DirAccess", name: "dir_exists_absolute", hash: hashDirAccessDirExistsAbsolute}
	dirAccessGetFilesAt          = methodBind{class: "DirAccess", name: "get_files_at", hash: hashDirAccessGetFilesAt}
	methodBinds                  = []*methodBind{&objectEmitSignal, &objectNotification, &projectSettingsGlobalizePath, &fileAccessOpen, &fileAccessGetOpenError, &fileAccessGetLength, &fileAccessSeek, &fileAccessFileExists, &dirAccessDirExistsAbsolute, &dirAccessGetFilesAt}
)

func (m *methodBind) resolve() bool {
	m.once.Do(func() {
		m.ptr = C.loom_gd_method_bind(stringName(m.class), stringName(m.name), C.GDExtensionInt(m.hash))
	})
	return m.ptr != nil
}

func (m *methodBind) mustResolve() {
	if !m.resolve() {
		panic(fmt.Errorf("%w: method %s.%s (hash %d) not found", ErrInterface, m.class, m.name, m.hash))
	}
}

// CheckInterface resolves every builtin and engine method the binding uses
// and returns an error naming the first one this Godot lacks. Call it once
// during setup so a mismatch is reported at load, not mid-game.
func CheckInterface() error {
	for _, b := range builtins {
		if !b.resolve() {
			return fmt.Errorf("%w: builtin method %s.%s (hash %d)", ErrInterface, b.typ, b.name, b.hash)
		}
	}
	for _, m := range methodBinds {
		if !m.resolve() {
			return fmt.Errorf("%w: method %s.%s (hash %d)", ErrInterface, m.class, m.name, m.hash)
		}
	}
	return nil
}

// call invokes the method through the Variant path (object_method_bind_call)
// with Go arguments converted by NewVariant; the caller destroys the result.
// obj is zero for static methods.
func (m *methodBind) call(obj Object, args ...any) (Variant, error) {
	m.mustResolve()
	vars := make([]Variant, len(args))
	for i, a := range args {
		if err := vars[i].init(a, 0); err != nil {
			for j := range i {
				vars[j].Destroy()
			}
			return Variant{}, fmt.Errorf("%s.%s argument %d: %w", m.class, m.name, i+1, err)
		}
	}
	defer func() {
		for i := range vars {
			vars[i].Destroy()
		}
	}()
	var pin runtime.Pinner
	defer pin.Unpin()
	ptrs := make([]C.GDExtensionConstVariantPtr, len(vars))
	for i := range vars {
		pin.Pin(&vars[i])
		ptrs[i] = C.GDExtensionConstVariantPtr(vars[i].ptr())
	}
	var argv *C.GDExtensionConstVariantPtr
	if len(ptrs) > 0 {
		argv = &ptrs[0]
	}
	var ret Variant
	var cerr C.GDExtensionCallError
	C.loom_gd_object_call(m.ptr, C.GDExtensionObjectPtr(obj.ptr()), argv, C.GDExtensionInt(len(ptrs)), C.GDExtensionUninitializedVariantPtr(ret.ptr()), &cerr)
	if cerr.error != C.GDEXTENSION_CALL_OK {
		return ret, fmt.Errorf("%s.%s: call error %d (argument %d)", m.class, m.name, int(cerr.error), int(cerr.argument))
	}
	return ret, nil
}

// callInt calls m and returns its int (or enum) result.
func (m *methodBind) callInt(obj Object, args ...any) (int64, error) {
	ret, err := m.call(obj, args...)
	defer ret.Destroy()
	if err != nil {
		return 0, err
	}
	x, err := ret.Go()
	if err != nil {
		return 0, err
	}
	switch x := x.(type) {
	case int64:
		return x, nil
	case bool:
		if x {
			return 1, nil
		}
		return 0, nil
	}
	return 0, fmt.Errorf("%s.%s returned %s, want int", m.class, m.name, ret.Type())
}

// EmitSignal emits signal name on o with args (converted by NewVariant). Call
// it on the main thread only: handlers run on the calling thread.
func (o Object) EmitSignal(name string, args ...any) error {
	all := make([]any, 0, len(args)+1)
	all = append(all, stringNameArg(name))
	all = append(all, args...)
	ret, err := objectEmitSignal.call(o, all...)
	ret.Destroy()
	if err != nil {
		return fmt.Errorf("emit %q: %w", name, err)
	}
	return nil
}

// stringNameArg makes NewVariant produce a StringName Variant.
type stringNameArg string

// notify sends notification what to o (Object.notification).
func (o Object) notify(what int32) {
	ret, err := objectNotification.call(o, int64(what), false)
	ret.Destroy()
	if err != nil {
		PrintError("Object.notification", err.Error())
	}
}

// GlobalizePath turns res:// and user:// paths into OS paths
// (ProjectSettings.globalize_path); other paths come back unchanged. In an
// exported game res:// files live inside the .pck and have no OS path: read
// them through FS instead.
func GlobalizePath(path string) (string, error) {
	ret, err := projectSettingsGlobalizePath.call(singleton("ProjectSettings"), path)
	defer ret.Destroy()
	if err != nil {
		return "", err
	}
	x, err := ret.Go()
	if err != nil {
		return "", err
	}
	s, _ := x.(string)
	return s, nil
}
