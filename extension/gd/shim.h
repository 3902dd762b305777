// C side of the Go GDExtension binding: the interface function pointers that
// Godot hands out through get_proc_address, thin wrappers so Go can call them
// (cgo cannot call C function pointers), and trampolines with Godot's exact
// callback signatures that forward into exported Go functions.
#pragma once

#include <stdint.h>
#include "gdextension_interface.h"

// loom_gd_load fetches every interface function the binding uses. It returns
// NULL on success or the name of the first function Godot does not provide.
const char *loom_gd_load(GDExtensionInterfaceGetProcAddress get_proc, GDExtensionClassLibraryPtr library);

// loom_gd_fill_init wires the initialize/deinitialize trampolines into the
// structure Godot passed to the entry symbol.
void loom_gd_fill_init(GDExtensionInitialization *init, GDExtensionInitializationLevel min_level);

// Handles travel to Godot as opaque pointers; Go never converts them back into
// Go pointers.
void *loom_gd_ptr(uintptr_t handle);

void loom_gd_print_error(const char *description, const char *message, const char *function, const char *file, int32_t line);

// Variants.
void loom_gd_variant_new_nil(GDExtensionUninitializedVariantPtr dst);
void loom_gd_variant_new_copy(GDExtensionUninitializedVariantPtr dst, GDExtensionConstVariantPtr src);
void loom_gd_variant_destroy(GDExtensionVariantPtr v);
GDExtensionVariantType loom_gd_variant_get_type(GDExtensionConstVariantPtr v);
GDExtensionBool loom_gd_variant_can_convert_strict(GDExtensionVariantType from, GDExtensionVariantType to);
void loom_gd_variant_construct(GDExtensionVariantType type, GDExtensionUninitializedVariantPtr dst, const GDExtensionConstVariantPtr *args, int32_t argc, GDExtensionCallError *err);
void loom_gd_variant_stringify(GDExtensionConstVariantPtr v, GDExtensionUninitializedStringPtr dst);
// Converts between a Variant and the plain value of the given type.
void loom_gd_variant_from(GDExtensionVariantType type, GDExtensionUninitializedVariantPtr dst, GDExtensionTypePtr src);
void loom_gd_variant_to(GDExtensionVariantType type, GDExtensionUninitializedTypePtr dst, GDExtensionVariantPtr src);

// Builtin types: default constructor, copy constructor, destructor and
// methods, looked up by type.
void loom_gd_type_new(GDExtensionVariantType type, GDExtensionUninitializedTypePtr dst);
void loom_gd_type_copy(GDExtensionVariantType type, GDExtensionUninitializedTypePtr dst, GDExtensionConstTypePtr src);
void loom_gd_type_destroy(GDExtensionVariantType type, GDExtensionTypePtr v);
GDExtensionPtrBuiltInMethod loom_gd_builtin_method(GDExtensionVariantType type, GDExtensionConstStringNamePtr name, GDExtensionInt hash);
void loom_gd_call_builtin(GDExtensionPtrBuiltInMethod m, GDExtensionTypePtr base, const GDExtensionConstTypePtr *args, GDExtensionTypePtr ret, int32_t argc);

// Strings.
void loom_gd_string_new(GDExtensionUninitializedStringPtr dst, const char *utf8, GDExtensionInt len);
GDExtensionInt loom_gd_string_to_utf8(GDExtensionConstStringPtr s, char *dst, GDExtensionInt max);
void loom_gd_string_name_new(GDExtensionUninitializedStringNamePtr dst, const char *utf8, GDExtensionInt len);

// Containers.
int32_t *loom_gd_packed_int32_ptr(GDExtensionTypePtr a, GDExtensionInt i);
GDExtensionStringPtr loom_gd_packed_string_at(GDExtensionConstTypePtr a, GDExtensionInt i);
GDExtensionVariantPtr loom_gd_array_at(GDExtensionConstTypePtr a, GDExtensionInt i);
GDExtensionVariantPtr loom_gd_dictionary_at(GDExtensionTypePtr d, GDExtensionConstVariantPtr key);

// Objects.
GDExtensionMethodBindPtr loom_gd_method_bind(GDExtensionConstStringNamePtr cls, GDExtensionConstStringNamePtr method, GDExtensionInt hash);
void loom_gd_object_call(GDExtensionMethodBindPtr m, GDExtensionObjectPtr obj, const GDExtensionConstVariantPtr *args, GDExtensionInt argc, GDExtensionUninitializedVariantPtr ret, GDExtensionCallError *err);
void loom_gd_object_ptrcall(GDExtensionMethodBindPtr m, GDExtensionObjectPtr obj, const GDExtensionConstTypePtr *args, GDExtensionTypePtr ret);
GDExtensionObjectPtr loom_gd_singleton(GDExtensionConstStringNamePtr name);
GDExtensionObjectPtr loom_gd_construct_object(GDExtensionConstStringNamePtr cls);
// inst is a registry handle (a small integer), passed as an integer: held
// in Go as a pointer it would be an invalid pointer on a goroutine stack.
void loom_gd_object_set_instance(GDExtensionObjectPtr obj, GDExtensionConstStringNamePtr cls, uintptr_t inst);
void loom_gd_ref_set_object(GDExtensionRefPtr ref, GDExtensionObjectPtr obj);
uint64_t loom_gd_file_get_buffer(GDExtensionConstObjectPtr file, uint8_t *dst, uint64_t len);

// ClassDB registration.
void loom_gd_register_class(GDExtensionConstStringNamePtr name, GDExtensionConstStringNamePtr parent, uintptr_t class_handle);
void loom_gd_register_method(GDExtensionConstStringNamePtr cls, GDExtensionClassMethodInfo *info, uintptr_t method_handle);
void loom_gd_register_property(GDExtensionConstStringNamePtr cls, const GDExtensionPropertyInfo *info, GDExtensionConstStringNamePtr setter, GDExtensionConstStringNamePtr getter);
void loom_gd_register_signal(GDExtensionConstStringNamePtr cls, GDExtensionConstStringNamePtr name, const GDExtensionPropertyInfo *args, GDExtensionInt argc);
void loom_gd_unregister_class(GDExtensionConstStringNamePtr name);
void loom_gd_register_frame_callback(void);
// loom_gd_load_doc_xml hands class reference XML to the editor's help; it
// returns false where Godot has no editor (export templates).
GDExtensionBool loom_gd_load_doc_xml(const char *data, GDExtensionInt len);
