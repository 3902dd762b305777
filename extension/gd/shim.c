// See shim.h. Every function here is a one-line forward; all logic is in Go.
#include <stddef.h>
#include "shim.h"
#include "_cgo_export.h"

static GDExtensionClassLibraryPtr library;

#define LOOM_GD_PROCS(X)                                                                        \
	X(GDExtensionInterfacePrintErrorWithMessage, print_error_with_message)                      \
	X(GDExtensionInterfaceVariantNewNil, variant_new_nil)                                       \
	X(GDExtensionInterfaceVariantNewCopy, variant_new_copy)                                     \
	X(GDExtensionInterfaceVariantDestroy, variant_destroy)                                      \
	X(GDExtensionInterfaceVariantGetType, variant_get_type)                                     \
	X(GDExtensionInterfaceVariantCanConvertStrict, variant_can_convert_strict)                  \
	X(GDExtensionInterfaceVariantConstruct, variant_construct)                                  \
	X(GDExtensionInterfaceVariantStringify, variant_stringify)                                  \
	X(GDExtensionInterfaceGetVariantFromTypeConstructor, get_variant_from_type_constructor)     \
	X(GDExtensionInterfaceGetVariantToTypeConstructor, get_variant_to_type_constructor)         \
	X(GDExtensionInterfaceVariantGetPtrConstructor, variant_get_ptr_constructor)                \
	X(GDExtensionInterfaceVariantGetPtrDestructor, variant_get_ptr_destructor)                  \
	X(GDExtensionInterfaceVariantGetPtrBuiltinMethod, variant_get_ptr_builtin_method)           \
	X(GDExtensionInterfaceStringNewWithUtf8CharsAndLen2, string_new_with_utf8_chars_and_len2)   \
	X(GDExtensionInterfaceStringToUtf8Chars, string_to_utf8_chars)                              \
	X(GDExtensionInterfaceStringNameNewWithUtf8CharsAndLen, string_name_new_with_utf8_chars_and_len) \
	X(GDExtensionInterfacePackedInt32ArrayOperatorIndex, packed_int32_array_operator_index)     \
	X(GDExtensionInterfacePackedStringArrayOperatorIndexConst, packed_string_array_operator_index_const) \
	X(GDExtensionInterfaceArrayOperatorIndexConst, array_operator_index_const)                  \
	X(GDExtensionInterfaceDictionaryOperatorIndex, dictionary_operator_index)                   \
	X(GDExtensionInterfaceClassdbGetMethodBind, classdb_get_method_bind)                        \
	X(GDExtensionInterfaceObjectMethodBindCall, object_method_bind_call)                        \
	X(GDExtensionInterfaceObjectMethodBindPtrcall, object_method_bind_ptrcall)                  \
	X(GDExtensionInterfaceGlobalGetSingleton, global_get_singleton)                             \
	X(GDExtensionInterfaceClassdbConstructObject2, classdb_construct_object2)                   \
	X(GDExtensionInterfaceObjectSetInstance, object_set_instance)                               \
	X(GDExtensionInterfaceRefSetObject, ref_set_object)                                         \
	X(GDExtensionInterfaceFileAccessGetBuffer, file_access_get_buffer)                          \
	X(GDExtensionInterfaceClassdbRegisterExtensionClass5, classdb_register_extension_class5)    \
	X(GDExtensionInterfaceClassdbRegisterExtensionClassMethod, classdb_register_extension_class_method) \
	X(GDExtensionInterfaceClassdbRegisterExtensionClassProperty, classdb_register_extension_class_property) \
	X(GDExtensionInterfaceClassdbRegisterExtensionClassSignal, classdb_register_extension_class_signal) \
	X(GDExtensionInterfaceClassdbUnregisterExtensionClass, classdb_unregister_extension_class)  \
	X(GDExtensionInterfaceRegisterMainLoopCallbacks, register_main_loop_callbacks)

// Functions only editor builds of Godot provide; export templates lack them.
#define LOOM_GD_EDITOR_PROCS(X) \
	X(GDExtensionsInterfaceEditorHelpLoadXmlFromUtf8CharsAndLen, editor_help_load_xml_from_utf8_chars_and_len)

#define LOOM_GD_DECLARE(type, name) static type gd_##name;
LOOM_GD_PROCS(LOOM_GD_DECLARE)
LOOM_GD_EDITOR_PROCS(LOOM_GD_DECLARE)

const char *loom_gd_load(GDExtensionInterfaceGetProcAddress get_proc, GDExtensionClassLibraryPtr lib) {
	library = lib;
#define LOOM_GD_FETCH(type, name)                        \
	gd_##name = (type)(void *)get_proc(#name);           \
	if (gd_##name == NULL) {                             \
		return #name;                                    \
	}
	LOOM_GD_PROCS(LOOM_GD_FETCH)
#define LOOM_GD_FETCH_OPTIONAL(type, name) gd_##name = (type)(void *)get_proc(#name);
	LOOM_GD_EDITOR_PROCS(LOOM_GD_FETCH_OPTIONAL)
	return NULL;
}

static void trampoline_initialize(void *userdata, GDExtensionInitializationLevel level) { goInitialize((int32_t)level); }
static void trampoline_deinitialize(void *userdata, GDExtensionInitializationLevel level) { goDeinitialize((int32_t)level); }

void loom_gd_fill_init(GDExtensionInitialization *init, GDExtensionInitializationLevel min_level) {
	init->minimum_initialization_level = min_level;
	init->userdata = NULL;
	init->initialize = trampoline_initialize;
	init->deinitialize = trampoline_deinitialize;
}

void *loom_gd_ptr(uintptr_t handle) { return (void *)handle; }

void loom_gd_print_error(const char *description, const char *message, const char *function, const char *file, int32_t line) {
	gd_print_error_with_message(description, message, function, file, line, 1);
}

void loom_gd_variant_new_nil(GDExtensionUninitializedVariantPtr dst) { gd_variant_new_nil(dst); }
void loom_gd_variant_new_copy(GDExtensionUninitializedVariantPtr dst, GDExtensionConstVariantPtr src) { gd_variant_new_copy(dst, src); }
void loom_gd_variant_destroy(GDExtensionVariantPtr v) { gd_variant_destroy(v); }
GDExtensionVariantType loom_gd_variant_get_type(GDExtensionConstVariantPtr v) { return gd_variant_get_type(v); }
GDExtensionBool loom_gd_variant_can_convert_strict(GDExtensionVariantType from, GDExtensionVariantType to) {
	return gd_variant_can_convert_strict(from, to);
}
void loom_gd_variant_construct(GDExtensionVariantType type, GDExtensionUninitializedVariantPtr dst, const GDExtensionConstVariantPtr *args, int32_t argc, GDExtensionCallError *err) {
	gd_variant_construct(type, dst, args, argc, err);
}
void loom_gd_variant_stringify(GDExtensionConstVariantPtr v, GDExtensionUninitializedStringPtr dst) { gd_variant_stringify(v, dst); }

// Constructor lookups are cached per type; Godot's tables never change after
// startup.
static GDExtensionVariantFromTypeConstructorFunc from_type[GDEXTENSION_VARIANT_TYPE_VARIANT_MAX];
static GDExtensionTypeFromVariantConstructorFunc to_type[GDEXTENSION_VARIANT_TYPE_VARIANT_MAX];
static GDExtensionPtrConstructor type_new[GDEXTENSION_VARIANT_TYPE_VARIANT_MAX];
static GDExtensionPtrConstructor type_copy[GDEXTENSION_VARIANT_TYPE_VARIANT_MAX];
static GDExtensionPtrDestructor type_destroy[GDEXTENSION_VARIANT_TYPE_VARIANT_MAX];

void loom_gd_variant_from(GDExtensionVariantType type, GDExtensionUninitializedVariantPtr dst, GDExtensionTypePtr src) {
	if (from_type[type] == NULL) {
		from_type[type] = gd_get_variant_from_type_constructor(type);
	}
	from_type[type](dst, src);
}
void loom_gd_variant_to(GDExtensionVariantType type, GDExtensionUninitializedTypePtr dst, GDExtensionVariantPtr src) {
	if (to_type[type] == NULL) {
		to_type[type] = gd_get_variant_to_type_constructor(type);
	}
	to_type[type](dst, src);
}

void loom_gd_type_new(GDExtensionVariantType type, GDExtensionUninitializedTypePtr dst) {
	if (type_new[type] == NULL) {
		type_new[type] = gd_variant_get_ptr_constructor(type, 0);
	}
	type_new[type](dst, NULL);
}
void loom_gd_type_copy(GDExtensionVariantType type, GDExtensionUninitializedTypePtr dst, GDExtensionConstTypePtr src) {
	if (type_copy[type] == NULL) {
		type_copy[type] = gd_variant_get_ptr_constructor(type, 1);
	}
	GDExtensionConstTypePtr args[1] = {src};
	type_copy[type](dst, args);
}
void loom_gd_type_destroy(GDExtensionVariantType type, GDExtensionTypePtr v) {
	if (type_destroy[type] == NULL) {
		type_destroy[type] = gd_variant_get_ptr_destructor(type);
	}
	type_destroy[type](v);
}
GDExtensionPtrBuiltInMethod loom_gd_builtin_method(GDExtensionVariantType type, GDExtensionConstStringNamePtr name, GDExtensionInt hash) {
	return gd_variant_get_ptr_builtin_method(type, name, hash);
}
void loom_gd_call_builtin(GDExtensionPtrBuiltInMethod m, GDExtensionTypePtr base, const GDExtensionConstTypePtr *args, GDExtensionTypePtr ret, int32_t argc) {
	m(base, args, ret, argc);
}

void loom_gd_string_new(GDExtensionUninitializedStringPtr dst, const char *utf8, GDExtensionInt len) {
	gd_string_new_with_utf8_chars_and_len2(dst, utf8, len);
}
GDExtensionInt loom_gd_string_to_utf8(GDExtensionConstStringPtr s, char *dst, GDExtensionInt max) {
	return gd_string_to_utf8_chars(s, dst, max);
}
void loom_gd_string_name_new(GDExtensionUninitializedStringNamePtr dst, const char *utf8, GDExtensionInt len) {
	gd_string_name_new_with_utf8_chars_and_len(dst, utf8, len);
}

int32_t *loom_gd_packed_int32_ptr(GDExtensionTypePtr a, GDExtensionInt i) { return gd_packed_int32_array_operator_index(a, i); }
GDExtensionStringPtr loom_gd_packed_string_at(GDExtensionConstTypePtr a, GDExtensionInt i) {
	return gd_packed_string_array_operator_index_const(a, i);
}
GDExtensionVariantPtr loom_gd_array_at(GDExtensionConstTypePtr a, GDExtensionInt i) { return gd_array_operator_index_const(a, i); }
GDExtensionVariantPtr loom_gd_dictionary_at(GDExtensionTypePtr d, GDExtensionConstVariantPtr key) {
	return gd_dictionary_operator_index(d, key);
}

GDExtensionMethodBindPtr loom_gd_method_bind(GDExtensionConstStringNamePtr cls, GDExtensionConstStringNamePtr method, GDExtensionInt hash) {
	return gd_classdb_get_method_bind(cls, method, hash);
}
void loom_gd_object_call(GDExtensionMethodBindPtr m, GDExtensionObjectPtr obj, const GDExtensionConstVariantPtr *args, GDExtensionInt argc, GDExtensionUninitializedVariantPtr ret, GDExtensionCallError *err) {
	gd_object_method_bind_call(m, obj, args, argc, ret, err);
}
void loom_gd_object_ptrcall(GDExtensionMethodBindPtr m, GDExtensionObjectPtr obj, const GDExtensionConstTypePtr *args, GDExtensionTypePtr ret) {
	gd_object_method_bind_ptrcall(m, obj, args, ret);
}
GDExtensionObjectPtr loom_gd_singleton(GDExtensionConstStringNamePtr name) { return gd_global_get_singleton(name); }
GDExtensionObjectPtr loom_gd_construct_object(GDExtensionConstStringNamePtr cls) { return gd_classdb_construct_object2(cls); }
void loom_gd_object_set_instance(GDExtensionObjectPtr obj, GDExtensionConstStringNamePtr cls, uintptr_t inst) {
	gd_object_set_instance(obj, cls, (GDExtensionClassInstancePtr)inst);
}
void loom_gd_ref_set_object(GDExtensionRefPtr ref, GDExtensionObjectPtr obj) { gd_ref_set_object(ref, obj); }
uint64_t loom_gd_file_get_buffer(GDExtensionConstObjectPtr file, uint8_t *dst, uint64_t len) {
	return gd_file_access_get_buffer(file, dst, len);
}

static GDExtensionObjectPtr trampoline_create(void *class_userdata, GDExtensionBool notify_postinitialize) {
	return goCreateInstance((uintptr_t)class_userdata, notify_postinitialize);
}
static void trampoline_free(void *class_userdata, GDExtensionClassInstancePtr instance) {
	goFreeInstance((uintptr_t)class_userdata, (uintptr_t)instance);
}
static GDExtensionClassCallVirtual trampoline_get_virtual(void *class_userdata, GDExtensionConstStringNamePtr name, uint32_t hash) {
	return NULL; // Loom classes override no virtual methods; they use notifications.
}

void loom_gd_register_class(GDExtensionConstStringNamePtr name, GDExtensionConstStringNamePtr parent, uintptr_t class_handle) {
	GDExtensionClassCreationInfo5 info = {0};
	info.is_exposed = 1;
	info.create_instance_func = trampoline_create;
	info.free_instance_func = trampoline_free;
	info.get_virtual_func = trampoline_get_virtual;
	info.class_userdata = (void *)class_handle;
	gd_classdb_register_extension_class5(library, name, parent, &info);
}

static void trampoline_call(void *method_userdata, GDExtensionClassInstancePtr instance, const GDExtensionConstVariantPtr *args, GDExtensionInt argc, GDExtensionVariantPtr ret, GDExtensionCallError *err) {
	goMethodCall((uintptr_t)method_userdata, (uintptr_t)instance, (void **)args, argc, ret, err);
}
static void trampoline_ptrcall(void *method_userdata, GDExtensionClassInstancePtr instance, const GDExtensionConstTypePtr *args, GDExtensionTypePtr ret) {
	goMethodPtrCall((uintptr_t)method_userdata, (uintptr_t)instance, (void **)args, ret);
}

void loom_gd_register_method(GDExtensionConstStringNamePtr cls, GDExtensionClassMethodInfo *info, uintptr_t method_handle) {
	info->method_userdata = (void *)method_handle;
	info->call_func = trampoline_call;
	info->ptrcall_func = trampoline_ptrcall;
	gd_classdb_register_extension_class_method(library, cls, info);
}
void loom_gd_register_property(GDExtensionConstStringNamePtr cls, const GDExtensionPropertyInfo *info, GDExtensionConstStringNamePtr setter, GDExtensionConstStringNamePtr getter) {
	gd_classdb_register_extension_class_property(library, cls, info, setter, getter);
}
void loom_gd_register_signal(GDExtensionConstStringNamePtr cls, GDExtensionConstStringNamePtr name, const GDExtensionPropertyInfo *args, GDExtensionInt argc) {
	gd_classdb_register_extension_class_signal(library, cls, name, args, argc);
}
void loom_gd_unregister_class(GDExtensionConstStringNamePtr name) { gd_classdb_unregister_extension_class(library, name); }

static void trampoline_frame(void) { goFrame(); }

void loom_gd_register_frame_callback(void) {
	static GDExtensionMainLoopCallbacks callbacks = {0};
	callbacks.frame_func = trampoline_frame;
	gd_register_main_loop_callbacks(library, &callbacks);
}

GDExtensionBool loom_gd_load_doc_xml(const char *data, GDExtensionInt len) {
	if (gd_editor_help_load_xml_from_utf8_chars_and_len == NULL) {
		return 0;
	}
	gd_editor_help_load_xml_from_utf8_chars_and_len(data, len);
	return 1;
}
