extends "res://test_case.gd"
## The generic binding: every conversion (String, int, float, bool, Object,
## Array, Dictionary, PackedInt32Array, PackedStringArray) through both of
## Godot's call paths: ptrcall (statically typed GDScript) and call (untyped
## Variants, Object.call), and a static method. Token ids come from
## transformers (golden.json).


func run() -> void:
	var model := await load_model()
	var untyped_model: Variant = model
	var g := golden()

	# String -> PackedInt32Array and back, typed and untyped.
	var ids: PackedInt32Array = model.tokenize(g.prompt_text)
	var want := PackedInt32Array(g.prompt_ids)  # JSON numbers are floats
	check_eq(ids, want, "tokenize (ptrcall) matches transformers")
	check_eq(untyped_model.tokenize(g.prompt_text), want, "tokenize (call) matches transformers")
	check_eq(model.call("tokenize", g.prompt_text), ids, "tokenize through Object.call")
	var greedy := PackedInt32Array(g.greedy_ids)
	check_eq(model.detokenize(greedy), g.greedy_text, "detokenize (ptrcall) matches transformers")
	check_eq(untyped_model.detokenize(greedy), g.greedy_text, "detokenize (call) matches transformers")
	check_eq(untyped_model.detokenize(g.greedy_ids), g.greedy_text, "an untyped Array converts to PackedInt32Array")
	check_eq(model.tokenize(""), PackedInt32Array(), "tokenize of an empty string")

	# Dictionary return.
	var info: Dictionary = model.get_info()
	check_eq(info.arch, "LlamaForCausalLM", "get_info arch")
	check_eq(info.vocab, g.vocab_size, "get_info vocab")
	check_eq(info.dtype, "BF16", "get_info dtype (weights_dtype bfloat16)")
	check_eq(info.context, 4096, "get_info context (max_position_embeddings)")
	check(info.params > 0, "get_info params")
	report("params", info.params)

	# Static method.
	var stats: Dictionary = LoomModel.get_runtime_stats()
	for key in ["heap_alloc", "heap_objects", "goroutines", "gomaxprocs", "num_gc"]:
		check(stats.has(key), "get_runtime_stats has " + key)
	report("gomaxprocs", stats.gomaxprocs)

	# Properties of every type, set typed and read untyped and back.
	var npc := make_npc(model)
	var u: Variant = npc
	var values := {
		"system_prompt": "Du bist ein Zauberer. 🧙 ünïcödé",
		"max_tokens": 77, "temperature": 0.25, "top_k": 7, "top_p": 0.5, "min_p": 0.125,
		"repeat_penalty": 1.5, "seed": 123456789012, "use_chat_template": false,
		"stop_strings": PackedStringArray(["\n", "The end", "ß"]),
	}
	for key in values:
		npc.set(key, values[key])
		check_eq(u.get(key), values[key], "property %s via set()/get()" % key)
	npc.temperature = 0.75
	check_eq(npc.temperature, 0.75, "float property typed")
	u.top_k = 3
	check_eq(npc.top_k, 3, "int property untyped set, typed get")
	u.temperature = 1
	check_eq(npc.temperature, 1.0, "an int converts to a float property")
	check(npc.model == model, "Object property returns the same LoomModel")
	u.model = null
	check(npc.model == null, "Object property set to null")
	npc.model = model
	check(u.model == model, "Object property restored")

	# Array of Dictionaries both ways.
	var history := [
		{"role": "user", "content": "Héllo ✓"},
		{"role": "assistant", "content": "Line one\nline two\t\"quoted\""},
	]
	check_eq(npc.set_history(history), OK, "set_history (ptrcall)")
	check_eq(npc.get_history(), history, "get_history (ptrcall)")
	check_eq(u.set_history(history.duplicate(true)), OK, "set_history (call)")
	check_eq(u.get_history(), history, "get_history (call)")
	npc.clear_history()
	check_eq(npc.get_history(), [], "clear_history")

	npc.queue_free()
