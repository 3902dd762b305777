extends "res://test_case.gd"
## Acceptance: bad input never crashes or hangs the game. Missing folders,
## corrupt or truncated safetensors and unknown architectures end in
## load_failed with a clear message and an Error code; bad arguments from
## GDScript end in a script error, an Error code or generation_failed; the
## game keeps running and the model keeps working.

const BAD := "user://loom_bad_input"


func run() -> void:
	_write_bad_models()
	await _bad_models()
	var model := await load_model()
	await _bad_generation(model)
	_bad_arguments(model)
	# Still alive and still working.
	var npc := make_npc(model)
	npc.max_tokens = 5
	var rec := Recorder.new(npc)
	check_eq(npc.say("Still there?"), OK, "say() after all the bad input")
	check(await wait_until(rec.done), "a reply after all the bad input")
	check_eq(rec.failed, null, "no failure after all the bad input")
	npc.queue_free()


func _copy(from: String, to: String, mutate := Callable()) -> void:
	var data := FileAccess.get_file_as_bytes(from)
	if mutate.is_valid():
		data = mutate.call(data)
	var f := FileAccess.open(to, FileAccess.WRITE)
	f.store_buffer(data)
	f.close()


func _write_bad_models() -> void:
	for dir in ["corrupt", "truncated", "unknown_arch"]:
		DirAccess.make_dir_recursive_absolute(BAD + "/" + dir)
		for f in ["config.json", "tokenizer.json", "tokenizer_config.json"]:
			_copy(MODEL_PATH + "/" + f, "%s/%s/%s" % [BAD, dir, f])
	var junk := PackedByteArray()
	junk.resize(4096)
	for i in junk.size():
		junk[i] = (i * 7919) % 251
	_copy(MODEL_PATH + "/model.safetensors", BAD + "/corrupt/model.safetensors", func(_d): return junk)
	_copy(MODEL_PATH + "/model.safetensors", BAD + "/truncated/model.safetensors", func(d): return d.slice(0, 20000))
	_copy(MODEL_PATH + "/model.safetensors", BAD + "/unknown_arch/model.safetensors")
	var config := FileAccess.get_file_as_string(MODEL_PATH + "/config.json")
	check("\"LlamaForCausalLM\"" in config, "the test model is a LlamaForCausalLM")
	var f := FileAccess.open(BAD + "/unknown_arch/config.json", FileAccess.WRITE)
	f.store_string(config.replace("\"LlamaForCausalLM\"", "\"GPT2LMHeadModel\""))
	f.close()


func _bad_models() -> void:
	var cases := [
		# [path, Error of load_blocking(), text the message must contain]
		["res://models/does-not-exist", ERR_FILE_NOT_FOUND, "not found"],
		[BAD + "/nowhere", ERR_FILE_NOT_FOUND, "not found"],
		[BAD + "/corrupt", ERR_FILE_CORRUPT, "safetensors"],
		[BAD + "/truncated", ERR_FILE_CORRUPT, "safetensors"],
		[BAD + "/unknown_arch", ERR_FILE_UNRECOGNIZED, "GPT2LMHeadModel"],
		["", ERR_UNCONFIGURED, "model_path and model_id are empty"],
		["models/relative", ERR_INVALID_PARAMETER, "must start with res://"],
	]
	for c in cases:
		for blocking in [true, false]:
			var model := LoomModel.new()
			model.model_path = c[0]
			var got := {"failed": null, "loaded": false}
			model.load_failed.connect(func(m): got.failed = m)
			model.loaded.connect(func(): got.loaded = true)
			var code: int = model.load_blocking() if blocking else model.load()
			var what := "%s (%s)" % [c[0], "load_blocking" if blocking else "load"]
			if blocking or code != OK:
				check_eq(code, c[1], what + " Error")
			check(await wait_until(func(): return got.failed != null or got.loaded), what + ": load_failed arrives")
			check(not got.loaded and not model.is_loaded(), what + ": not loaded")
			check(got.failed != null and c[2] in got.failed, "%s: message %s mentions %s" % [what, got.failed, c[2]])
			if blocking:
				print("   load_failed: ", got.failed)


func _bad_generation(model: LoomModel) -> void:
	var npc := LoomNPC.new()
	add_child(npc)
	var rec := Recorder.new(npc)
	check_eq(npc.say("hi"), ERR_UNCONFIGURED, "say() without a model")
	check(await wait_until(rec.done), "generation_failed without a model")
	check(rec.failed != null and "no model" in rec.failed, "message without a model: %s" % rec.failed)

	npc.model = LoomModel.new()
	rec.reset()
	check_eq(npc.say("hi"), ERR_UNCONFIGURED, "say() with an unloaded model")
	check(await wait_until(rec.done) and "not loaded" in str(rec.failed), "message with an unloaded model: %s" % rec.failed)

	npc.model = model
	for setting in [["temperature", NAN], ["top_p", 7.0], ["max_tokens", 0], ["stop_strings", PackedStringArray([""])]]:
		var old = npc.get(setting[0])
		npc.set(setting[0], setting[1])
		rec.reset()
		check_eq(npc.say("hi"), ERR_INVALID_PARAMETER, "say() with %s = %s" % setting)
		check(await wait_until(rec.done) and rec.failed != null, "generation_failed with %s = %s" % setting)
		npc.set(setting[0], old)

	# A second say() while generating is refused; the first one goes on.
	npc.max_tokens = 40
	npc.temperature = 1.0
	rec.reset()
	check_eq(npc.say("first"), OK, "first say()")
	var second := {"failed": null}
	npc.generation_failed.connect(func(m): second.failed = m, CONNECT_ONE_SHOT)
	check_eq(npc.say("second"), ERR_BUSY, "say() while generating")
	check_eq(npc.set_history([]), ERR_BUSY, "set_history() while generating")
	check(await wait_until(func(): return rec.reply != null), "the first reply still finishes")
	check(second.failed != null and "already generating" in second.failed, "message when busy: %s" % second.failed)
	check_eq(npc.get_history().size(), 2, "only the first say() is in the history")
	npc.queue_free()


## Calls that GDScript itself rejects: a script error is printed and the
## call returns null; the caller goes on.
func _rejected(obj: Object, method: String, args: Array) -> Variant:
	return obj.callv(method, args)


func _bad_arguments(model: LoomModel) -> void:
	var npc := make_npc(model)
	check_eq(_rejected(npc, "say", [[1, 2]]), null, "say(Array) is rejected")
	check_eq(_rejected(npc, "say", []), null, "say() without an argument is rejected")
	check_eq(_rejected(npc, "set_history", ["not an array"]), null, "set_history(String) is rejected")
	check_eq(_rejected(model, "detokenize", [{"a": 1}]), null, "detokenize(Dictionary) is rejected")
	var cyclic := []
	cyclic.append(cyclic)
	check_eq(_rejected(npc, "set_history", [cyclic]), null, "a self-containing Array is rejected")
	check_eq(npc.set_history([1, 2]), ERR_INVALID_PARAMETER, "set_history of ints")
	check_eq(npc.set_history([{"role": "user"}]), ERR_INVALID_PARAMETER, "set_history without content")
	check_eq(npc.set_history([{"role": 1, "content": "x"}]), ERR_INVALID_PARAMETER, "set_history with a non-String role")
	check_eq(model.detokenize(PackedInt32Array([-5, 1 << 30])), "", "detokenize of ids outside the vocabulary")
	var node := Node.new()
	npc.set("model", node)
	check(npc.model == model, "a Node is not accepted as model")
	node.free()
	npc.queue_free()
