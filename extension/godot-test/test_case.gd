extends Node
## Base of the test scripts: assertions, waiting helpers and the test model.

## The model every test uses; ci/godot/test.sh copies it into the project.
const MODEL_PATH := "res://models/tiny-chat"

var failures := PackedStringArray()


## Override: the test body. It may await.
func run() -> void:
	pass


func check(condition: bool, message: String) -> void:
	if not condition:
		failures.append(message)
		printerr("   FAIL: ", message)


func check_eq(got, want, message: String) -> void:
	check(got == want, "%s: got %s, want %s" % [message, var_to_str(got), var_to_str(want)])


## Prints a measured figure in a form the CI log can be grepped for.
func report(what: String, value) -> void:
	print("   FIGURE %s = %s" % [what, str(value)])


## Waits frames until cond() holds; false after timeout_s.
func wait_until(cond: Callable, timeout_s := 30.0) -> bool:
	var deadline := Time.get_ticks_msec() + int(timeout_s * 1000)
	while not cond.call():
		if Time.get_ticks_msec() > deadline:
			return false
		await get_tree().process_frame
	return true


## Loads the test model with load() and waits for loaded.
func load_model(path := MODEL_PATH) -> LoomModel:
	var model := LoomModel.new()
	model.model_path = path
	var state := {"done": false}
	model.loaded.connect(func(): state.done = true)
	model.load_failed.connect(func(msg): printerr("   load_failed: ", msg); state.done = true)
	check_eq(model.load(), OK, "load() of " + path)
	check(await wait_until(func(): return state.done), "load of %s timed out" % path)
	check(model.is_loaded(), path + " is loaded")
	return model


## transformers' reference output for the test model (golden.json).
func golden() -> Dictionary:
	return JSON.parse_string(FileAccess.get_file_as_string(MODEL_PATH + "/golden.json"))


## Runs `loom verify MODEL args` and parses its lines into a Dictionary
## shaped like get_last_audit()'s.
func verify(args: PackedStringArray) -> Dictionary:
	var bin := OS.get_environment("LOOM_BIN")
	var all := PackedStringArray(["verify", ProjectSettings.globalize_path(MODEL_PATH)]) + args
	var output := []
	var start := Time.get_ticks_msec()
	var code := OS.execute(bin, all, output, true)
	report("verify_ms", Time.get_ticks_msec() - start)
	check_eq(code, 0, "loom verify %s exit code (output: %s)" % [" ".join(all), str(output)])
	var got := {}
	for line in str(output[0]).split("\n", false):
		var kv := line.split(" ", true, 1)
		match kv[0]:
			"ids":
				var ids := PackedInt32Array()
				for id in kv[1].split(" ", false):
					ids.append(int(id))
				got.ids = ids
			"text":
				got.text = JSON.parse_string(kv[1])
			"model_sha256", "input_sha256", "logits_sha256":
				got[kv[0]] = kv[1]
	return got


## ids as `loom verify --ids` takes them: "1,2,3".
func ids_flag(ids: PackedInt32Array) -> String:
	return ",".join(PackedStringArray(Array(ids).map(func(id): return str(id))))


## Creates an NPC on model, in the tree; greedy decoding unless changed.
func make_npc(model: LoomModel) -> LoomNPC:
	var npc := LoomNPC.new()
	npc.model = model
	npc.temperature = 0.0
	add_child(npc)
	return npc


## Records every signal of npc, with whether it came on the main thread.
class Recorder:
	var events: Array = []
	var tokens := PackedStringArray()
	var reply = null
	var failed = null
	var off_main_thread := 0

	func _init(npc: LoomNPC) -> void:
		npc.generation_started.connect(func(): _note("started"))
		npc.token.connect(func(t): _note("token"); tokens.append(t))
		npc.reply_finished.connect(func(t): _note("finished"); reply = t)
		npc.generation_failed.connect(func(m): _note("failed"); failed = m)

	func _note(what: String) -> void:
		events.append(what)
		if OS.get_thread_caller_id() != OS.get_main_thread_id():
			off_main_thread += 1

	func done() -> bool:
		return reply != null or failed != null

	func reset() -> void:
		events.clear()
		tokens.clear()
		reply = null
		failed = null
