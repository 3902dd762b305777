extends "res://test_case.gd"
## model_path forms: res:// (read through FileAccess, as in an exported
## .pck), user:// and an absolute path (memory-mapped) load the same model,
## and one LoomModel serves several NPCs.


func run() -> void:
	var res := await load_model()
	var absolute := await load_model(ProjectSettings.globalize_path(MODEL_PATH))
	# Copy the model to user:// and load it from there.
	DirAccess.make_dir_recursive_absolute("user://loom_models/tiny-chat")
	for f in DirAccess.get_files_at(MODEL_PATH):
		DirAccess.copy_absolute(MODEL_PATH + "/" + f, "user://loom_models/tiny-chat/" + f)
	var user := await load_model("user://loom_models/tiny-chat")
	var text := "The wizard's tower — 魔法使いの塔"
	for m in [absolute, user]:
		check_eq(m.get_info(), res.get_info(), "get_info of %s" % m.model_path)
		check_eq(m.tokenize(text), res.tokenize(text), "tokenize with %s" % m.model_path)

	# Several NPCs share one model without copying it: same prompt and
	# seed, same reply, and the Go heap grows by far less than the weights.
	var weights := FileAccess.get_file_as_bytes(MODEL_PATH + "/model.safetensors").size()
	var heap_before: int = LoomModel.get_runtime_stats().heap_alloc
	var replies := []
	var npcs := []
	for m in [res, res, res, res, absolute]:
		var npc := make_npc(m)
		npc.max_tokens = 12
		var rec := Recorder.new(npc)
		npc.say("Hello")
		npcs.append([npc, rec])
	for pair in npcs:
		check(await wait_until(pair[1].done), "shared-model reply")
		replies.append(pair[1].reply)
	var growth: int = LoomModel.get_runtime_stats().heap_alloc - heap_before
	report("heap_growth_five_npcs_bytes", growth)
	report("weights_bytes", weights)
	check(growth < weights / 2, "five NPCs grew the Go heap by %d bytes; the weights are %d" % [growth, weights])
	for pair in npcs:
		pair[0].queue_free()
	check(replies[0] != null and replies.count(replies[0]) == replies.size(), "replies of NPCs sharing a model: %s" % str(replies))
