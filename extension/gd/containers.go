package gd

/*
#include "shim.h"
*/
import "C"

import (
	"errors"
	"fmt"
	"runtime"
	"sync"
	"unsafe"
)

// stringValue is a Godot String (one pointer) in Go memory.
type stringValue struct{ raw [1]uint64 }

func (s *stringValue) ptr() unsafe.Pointer { return unsafe.Pointer(&s.raw) }

func newString(x string) stringValue {
	var s stringValue
	var p *C.char
	if len(x) > 0 {
		p = (*C.char)(unsafe.Pointer(unsafe.StringData(x)))
	}
	C.loom_gd_string_new(C.GDExtensionUninitializedStringPtr(s.ptr()), p, C.GDExtensionInt(len(x)))
	return s
}

func (s *stringValue) destroy() { destroyType(TypeString, s.ptr()) }

func (s *stringValue) goString() string { return goStringAt(s.ptr()) }

// goStringAt converts the Godot String at p to UTF-8.
func goStringAt(p unsafe.Pointer) string {
	n := C.loom_gd_string_to_utf8(C.GDExtensionConstStringPtr(p), nil, 0)
	if n <= 0 {
		return ""
	}
	buf := make([]byte, int(n))
	C.loom_gd_string_to_utf8(C.GDExtensionConstStringPtr(p), (*C.char)(unsafe.Pointer(&buf[0])), n)
	return string(buf)
}

// arrayValue is a Godot Array (one pointer) in Go memory.
type arrayValue struct{ raw [1]uint64 }

func (a *arrayValue) ptr() unsafe.Pointer { return unsafe.Pointer(&a.raw) }

func (a *arrayValue) size() int { return builtinSize(&arraySize, a.ptr()) }

func (a *arrayValue) append(v *Variant) {
	var pin runtime.Pinner
	defer pin.Unpin()
	pin.Pin(v)
	args := [1]unsafe.Pointer{v.ptr()}
	arrayAppend.call(a.ptr(), args[:], nil)
}

func (a *arrayValue) goValue(depth int) ([]any, error) {
	n := a.size()
	out := make([]any, n)
	for i := range n {
		el := variantAt(unsafe.Pointer(C.loom_gd_array_at(C.GDExtensionConstTypePtr(a.ptr()), C.GDExtensionInt(i))))
		x, err := el.goValue(depth + 1)
		if errors.Is(err, ErrTooDeep) {
			return nil, err
		}
		if err != nil {
			return nil, fmt.Errorf("element %d: %w", i, err)
		}
		out[i] = x
	}
	return out, nil
}

// dictionaryValue is a Godot Dictionary (one pointer) in Go memory.
type dictionaryValue struct{ raw [1]uint64 }

func (d *dictionaryValue) ptr() unsafe.Pointer { return unsafe.Pointer(&d.raw) }

// slot returns the Variant stored under key, inserting Nil if absent.
func (d *dictionaryValue) slot(key *Variant) *Variant {
	return variantAt(unsafe.Pointer(C.loom_gd_dictionary_at(C.GDExtensionTypePtr(d.ptr()), C.GDExtensionConstVariantPtr(key.ptr()))))
}

func (d *dictionaryValue) set(key string, x any, depth int) error {
	var kv, xv Variant
	if err := kv.init(key, depth); err != nil {
		return err
	}
	defer kv.Destroy()
	if err := xv.init(x, depth); err != nil {
		return fmt.Errorf("key %q: %w", key, err)
	}
	defer xv.Destroy()
	slot := d.slot(&kv)
	C.loom_gd_variant_destroy(C.GDExtensionVariantPtr(slot.ptr()))
	C.loom_gd_variant_new_copy(C.GDExtensionUninitializedVariantPtr(slot.ptr()), C.GDExtensionConstVariantPtr(xv.ptr()))
	return nil
}

func (d *dictionaryValue) goValue(depth int) (map[string]any, error) {
	var keys arrayValue
	dictionaryKeys.call(d.ptr(), nil, keys.ptr())
	defer destroyType(TypeArray, keys.ptr())
	n := keys.size()
	out := make(map[string]any, n)
	for i := range n {
		kv := variantAt(unsafe.Pointer(C.loom_gd_array_at(C.GDExtensionConstTypePtr(keys.ptr()), C.GDExtensionInt(i))))
		if t := kv.Type(); t != TypeString && t != TypeStringName {
			return nil, fmt.Errorf("%w: Dictionary key of type %s (want String)", ErrUnsupported, t)
		}
		k := kv.Stringify()
		x, err := d.slot(kv).goValue(depth + 1)
		if errors.Is(err, ErrTooDeep) {
			return nil, err
		}
		if err != nil {
			return nil, fmt.Errorf("key %q: %w", k, err)
		}
		out[k] = x
	}
	return out, nil
}

// packedValue is a Godot packed array (two pointers) in Go memory.
type packedValue struct{ raw [2]uint64 }

func (p *packedValue) ptr() unsafe.Pointer { return unsafe.Pointer(&p.raw) }

func newPackedInt32(x []int32) packedValue {
	var p packedValue
	newType(TypePackedInt32Array, p.ptr())
	if len(x) == 0 {
		return p
	}
	n := int64(len(x))
	var pin runtime.Pinner
	defer pin.Unpin()
	pin.Pin(&n)
	args := [1]unsafe.Pointer{unsafe.Pointer(&n)}
	var ret int64
	packedInt32Resize.call(p.ptr(), args[:], unsafe.Pointer(&ret))
	data := C.loom_gd_packed_int32_ptr(C.GDExtensionTypePtr(p.ptr()), 0)
	copy(unsafe.Slice((*int32)(unsafe.Pointer(data)), len(x)), x)
	return p
}

func (p *packedValue) int32s() []int32 {
	n := builtinSize(&packedInt32Size, p.ptr())
	out := make([]int32, n)
	if n > 0 {
		data := C.loom_gd_packed_int32_ptr(C.GDExtensionTypePtr(p.ptr()), 0)
		copy(out, unsafe.Slice((*int32)(unsafe.Pointer(data)), n))
	}
	return out
}

func newPackedString(x []string) packedValue {
	var p packedValue
	newType(TypePackedStringArray, p.ptr())
	for _, s := range x {
		gs := newString(s)
		var pin runtime.Pinner
		pin.Pin(&gs)
		args := [1]unsafe.Pointer{gs.ptr()}
		var ok C.GDExtensionBool
		packedStringAppend.call(p.ptr(), args[:], unsafe.Pointer(&ok))
		pin.Unpin()
		gs.destroy()
	}
	return p
}

func (p *packedValue) strings() []string {
	n := builtinSize(&packedStringSize, p.ptr())
	out := make([]string, n)
	for i := range n {
		out[i] = goStringAt(unsafe.Pointer(C.loom_gd_packed_string_at(C.GDExtensionConstTypePtr(p.ptr()), C.GDExtensionInt(i))))
	}
	return out
}

// builtin is a method of a builtin (Variant) type, resolved on first use.
type builtin struct {
	typ  VariantType
	name string
	hash int64
	once sync.Once
	fn   C.GDExtensionPtrBuiltInMethod
}

var (
	arraySize          = builtin{typ: TypeArray, name: "size", hash: hashArraySize}
	arrayAppend        = builtin{typ: TypeArray, name: "append", hash: hashArrayAppend}
	dictionaryKeys     = builtin{typ: TypeDictionary, name: "keys", hash: hashDictionaryKeys}
	packedInt32Size    = builtin{typ: TypePackedInt32Array, name: "size", hash: hashPackedInt32ArraySize}
	packedInt32Resize  = builtin{typ: TypePackedInt32Array, name: "resize", hash: hashPackedInt32ArrayResize}
	packedStringSize   = builtin{typ: TypePackedStringArray, name: "size", hash: hashPackedStringArraySize}
	packedStringAppend = builtin{typ: TypePackedStringArray, name: "append", hash: hashPackedStringArrayAppend}
)

var builtins = []*builtin{&arraySize, &arrayAppend, &dictionaryKeys, &packedInt32Size, &packedInt32Resize, &packedStringSize, &packedStringAppend}

func (b *builtin) resolve() bool {
	b.once.Do(func() {
		b.fn = C.loom_gd_builtin_method(C.GDExtensionVariantType(b.typ), stringName(b.name), C.GDExtensionInt(b.hash))
	})
	return b.fn != nil
}

// call runs the method on base. args must point at pinned or C memory.
func (b *builtin) call(base unsafe.Pointer, args []unsafe.Pointer, ret unsafe.Pointer) {
	if !b.resolve() {
		panic(fmt.Errorf("%w: builtin method %s.%s (hash %d) not found", ErrInterface, b.typ, b.name, b.hash))
	}
	var argv *C.GDExtensionConstTypePtr
	if len(args) > 0 {
		argv = (*C.GDExtensionConstTypePtr)(unsafe.Pointer(&args[0]))
	}
	C.loom_gd_call_builtin(b.fn, C.GDExtensionTypePtr(base), argv, C.GDExtensionTypePtr(ret), C.int32_t(len(args)))
}

func builtinSize(b *builtin, base unsafe.Pointer) int {
	var n int64
	b.call(base, nil, unsafe.Pointer(&n))
	return int(n)
}
