package gd

/*
#include <stdlib.h>
#include "shim.h"
*/
import "C"

import (
	"fmt"
	"slices"
	"sync"
	"unsafe"
)

// Instance is the Go value behind one object of a registered class.
type Instance interface {
	// Free runs when Godot frees the object, on the thread that frees it.
	// It must not call back into the object.
	Free()
}

// PropertyHint is Godot's PropertyHint: how the inspector edits a value.
type PropertyHint uint32

// The property hints the Loom classes use (the zero value is
// PROPERTY_HINT_NONE).
const (
	HintRange PropertyHint = 1
	// HintEnum offers the comma-separated HintString as a drop-down.
	HintEnum         PropertyHint = 2
	HintDir          PropertyHint = 14
	HintResourceType PropertyHint = 17
	HintMultiline    PropertyHint = 18
	// HintPlaceholderText shows HintString greyed out in an empty field.
	HintPlaceholderText PropertyHint = 20
)

const (
	usageDefault     = 6     // PROPERTY_USAGE_DEFAULT
	usageClassIsEnum = 65536 // PROPERTY_USAGE_CLASS_IS_ENUM
	methodFlagNormal = C.GDEXTENSION_METHOD_FLAG_NORMAL
	methodFlagStatic = C.GDEXTENSION_METHOD_FLAG_STATIC
	notifyPostInit   = 0 // Object::NOTIFICATION_POSTINITIALIZE
)

// Param describes an argument, a return value, a property or a signal
// argument.
type Param struct {
	Name string
	Type VariantType
	// Class is the class name of an Object, or for TypeInt the enum the
	// integer belongs to ("Error").
	Class      string
	Hint       PropertyHint
	HintString string
}

// Method is a method exposed to Godot. Fn receives the arguments already
// checked and converted to the declared types (see Args) and returns a value
// of the declared return type (nil when Return is nil).
type Method struct {
	Name   string
	Args   []Param
	Return *Param
	Static bool
	Fn     func(self Instance, args Args) any
}

// Property is a property exposed to Godot, backed by get_<name> and
// set_<name> methods that are registered with it.
type Property struct {
	Param
	Get func(self Instance) any
	Set func(self Instance, v any)
}

// Signal is a signal the class may emit.
type Signal struct {
	Name string
	Args []Param
}

// Class describes a Go type exposed as a Godot class. Parent must be an
// engine class (Node, Resource, ...).
type Class struct {
	Name, Parent string
	// New builds the Go side of a new object; owner is the Godot object.
	// Godot constructs objects on any thread (resource loaders), so New must
	// not call Godot.
	New        func(owner Object) Instance
	Methods    []Method
	Properties []Property
	Signals    []Signal
}

type classRecord struct {
	def        *Class
	refCounted bool
}

type methodRecord struct {
	class *classRecord
	m     Method
}

type instanceRecord struct {
	inst  Instance
	obj   Object
	class *classRecord
}

var (
	// classes and methods are written during registration (main thread,
	// before any call) and only read afterwards; handles are index+1.
	classes []*classRecord
	methods []*methodRecord

	instances struct {
		sync.RWMutex
		byHandle map[uintptr]*instanceRecord
		byObject map[Object]*instanceRecord
		next     uintptr
	}
)

// refCountedBases are the engine classes whose descendants are reference
// counted; ptrcall passes those as Ref<T>.
var refCountedBases = []string{"RefCounted", "Resource"}

// Register exposes c to Godot. Call it during setup at LevelScene.
func Register(c *Class) error {
	for _, r := range classes {
		if r.def.Name == c.Parent {
			return fmt.Errorf("gd: class %s: parent %s is an extension class; only engine parents are supported", c.Name, c.Parent)
		}
	}
	if c.New == nil {
		return fmt.Errorf("gd: class %s has no constructor", c.Name)
	}
	rec := &classRecord{def: c, refCounted: slices.Contains(refCountedBases, c.Parent)}
	classes = append(classes, rec)
	if rec.refCounted {
		refCountedBases = append(refCountedBases, c.Name)
	}
	cls := stringName(c.Name)
	C.loom_gd_register_class(cls, stringName(c.Parent), C.uintptr_t(len(classes)))
	for _, m := range c.Methods {
		registerMethod(rec, m)
	}
	for _, p := range c.Properties {
		get, set := "get_"+p.Name, "set_"+p.Name
		ret := p.Param
		getFn, setFn := p.Get, p.Set
		registerMethod(rec, Method{Name: get, Return: &ret, Fn: func(self Instance, _ Args) any { return getFn(self) }})
		registerMethod(rec, Method{Name: set, Args: []Param{{Name: "value", Type: p.Type, Class: p.Class}}, Fn: func(self Instance, a Args) any {
			setFn(self, a[0])
			return nil
		}})
		var arena cArena
		info := arena.propertyInfo(p.Param)
		C.loom_gd_register_property(cls, info, stringName(set), stringName(get))
		arena.free()
	}
	for _, s := range c.Signals {
		var arena cArena
		args := arena.propertyInfos(s.Args)
		C.loom_gd_register_signal(cls, stringName(s.Name), args, C.GDExtensionInt(len(s.Args)))
		arena.free()
	}
	return nil
}

// UnregisterAll removes the registered classes, newest first; call it at
// teardown of LevelScene.
func UnregisterAll() {
	for i := len(classes) - 1; i >= 0; i-- {
		C.loom_gd_unregister_class(stringName(classes[i].def.Name))
	}
}

func registerMethod(rec *classRecord, m Method) {
	methods = append(methods, &methodRecord{class: rec, m: m})
	var arena cArena
	defer arena.free()
	info := (*C.GDExtensionClassMethodInfo)(arena.alloc(C.sizeof_GDExtensionClassMethodInfo))
	info.name = C.GDExtensionStringNamePtr(unsafe.Pointer(stringName(m.Name)))
	info.method_flags = methodFlagNormal
	if m.Static {
		info.method_flags |= methodFlagStatic
	}
	if m.Return != nil {
		info.has_return_value = 1
		info.return_value_info = arena.propertyInfo(*m.Return)
	}
	info.argument_count = C.uint32_t(len(m.Args))
	if len(m.Args) > 0 {
		info.arguments_info = arena.propertyInfos(m.Args)
		info.arguments_metadata = (*C.GDExtensionClassMethodArgumentMetadata)(arena.alloc(C.size_t(len(m.Args)) * C.sizeof_GDExtensionClassMethodArgumentMetadata))
	}
	C.loom_gd_register_method(stringName(rec.def.Name), info, C.uintptr_t(len(methods)))
}

// cArena allocates C memory for registration structures, which must not live
// in Go memory because they hold pointers.
type cArena struct {
	ptrs    []unsafe.Pointer
	strings []*stringValue
}

func (a *cArena) alloc(size C.size_t) unsafe.Pointer {
	p := C.calloc(1, size)
	a.ptrs = append(a.ptrs, p)
	return p
}

func (a *cArena) godotString(s string) C.GDExtensionStringPtr {
	p := (*stringValue)(a.alloc(C.size_t(unsafe.Sizeof(stringValue{}))))
	*p = newString(s)
	a.strings = append(a.strings, p)
	return C.GDExtensionStringPtr(p.ptr())
}

func (a *cArena) fillPropertyInfo(info *C.GDExtensionPropertyInfo, p Param) {
	info._type = C.GDExtensionVariantType(p.Type)
	info.name = C.GDExtensionStringNamePtr(unsafe.Pointer(stringName(p.Name)))
	info.class_name = C.GDExtensionStringNamePtr(unsafe.Pointer(stringName(p.Class)))
	info.hint = C.uint32_t(p.Hint)
	info.hint_string = a.godotString(p.HintString)
	info.usage = usageDefault
	if p.Type == TypeInt && p.Class != "" {
		info.usage |= usageClassIsEnum
	}
}

func (a *cArena) propertyInfo(p Param) *C.GDExtensionPropertyInfo {
	info := (*C.GDExtensionPropertyInfo)(a.alloc(C.sizeof_GDExtensionPropertyInfo))
	a.fillPropertyInfo(info, p)
	return info
}

func (a *cArena) propertyInfos(ps []Param) *C.GDExtensionPropertyInfo {
	if len(ps) == 0 {
		return nil
	}
	base := a.alloc(C.size_t(len(ps)) * C.sizeof_GDExtensionPropertyInfo)
	infos := unsafe.Slice((*C.GDExtensionPropertyInfo)(base), len(ps))
	for i, p := range ps {
		a.fillPropertyInfo(&infos[i], p)
	}
	return &infos[0]
}

func (a *cArena) free() {
	for _, s := range a.strings {
		s.destroy()
	}
	for _, p := range a.ptrs {
		C.free(p)
	}
	*a = cArena{}
}

// InstanceOf returns the Go instance behind obj, or nil when obj is null or
// not an object of a registered class. Safe from any thread.
func InstanceOf(obj Object) Instance {
	instances.RLock()
	defer instances.RUnlock()
	if r, ok := instances.byObject[obj]; ok {
		return r.inst
	}
	return nil
}

//export goCreateInstance
func goCreateInstance(classHandle C.uintptr_t, notify C.GDExtensionBool) (obj unsafe.Pointer) {
	rec := classes[classHandle-1]
	defer recoverBoundary(rec.def.Name + ".new")
	obj = unsafe.Pointer(C.loom_gd_construct_object(stringName(rec.def.Parent)))
	o := Object(uintptr(obj))
	ir := &instanceRecord{inst: rec.def.New(o), obj: o, class: rec}
	instances.Lock()
	if instances.byHandle == nil {
		instances.byHandle = make(map[uintptr]*instanceRecord)
		instances.byObject = make(map[Object]*instanceRecord)
	}
	instances.next++
	h := instances.next
	instances.byHandle[h] = ir
	instances.byObject[o] = ir
	instances.Unlock()
	C.loom_gd_object_set_instance(C.GDExtensionObjectPtr(obj), stringName(rec.def.Name), C.uintptr_t(h))
	if notify != 0 {
		o.notify(notifyPostInit)
	}
	return obj
}

//export goFreeInstance
func goFreeInstance(classHandle, instHandle C.uintptr_t) {
	defer recoverBoundary(classes[classHandle-1].def.Name + ".free")
	instances.Lock()
	ir := instances.byHandle[uintptr(instHandle)]
	delete(instances.byHandle, uintptr(instHandle))
	if ir != nil {
		delete(instances.byObject, ir.obj)
	}
	instances.Unlock()
	if ir != nil {
		ir.inst.Free()
	}
}

func lookup(h uintptr) *instanceRecord {
	instances.RLock()
	defer instances.RUnlock()
	return instances.byHandle[h]
}
