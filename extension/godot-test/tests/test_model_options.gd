extends "res://test_case.gd"
## LoomModel's quantize and background_threads: their defaults, a bad
## quantize refused before loading, a q8 model whose greedy reply and audit
## equal `loom verify --quantize q8`'s (the CLI in LOOM_BIN), and normal-
## priority threads still giving transformers' greedy reply.


func _greedy_reply(model: LoomModel, text: String) -> LoomNPC:
	var npc := make_npc(model)
	npc.max_tokens = 20
	var rec := Recorder.new(npc)
	check_eq(npc.say(text), OK, "say(%s)" % text)
	check(await wait_until(rec.done), "reply to " + text)
	check_eq(rec.failed, null, "generation_failed")
	return npc


func run() -> void:
	var defaults := LoomModel.new()
	check_eq(defaults.background_threads, true, "background_threads default")
	check_eq(defaults.quantize, "none", "quantize default")

	var bad := LoomModel.new()
	bad.model_path = MODEL_PATH
	bad.quantize = "q4"
	var failed := []
	bad.load_failed.connect(func(m): failed.append(m))
	check_eq(bad.load_blocking(), ERR_INVALID_PARAMETER, "load_blocking() with quantize q4")
	await get_tree().process_frame
	check(failed.size() == 1 and "q4" in str(failed[0]), "load_failed names the bad quantize: %s" % str(failed))

	var g := golden()
	var normal := LoomModel.new()
	normal.model_path = MODEL_PATH
	normal.background_threads = false
	check_eq(normal.load_blocking(), OK, "load_blocking() with background_threads off")
	var npc := await _greedy_reply(normal, g.messages[0].content)
	check_eq(npc.get_history()[1].content, g.greedy_text, "greedy reply at normal priority vs transformers")
	npc.queue_free()

	if OS.get_environment("LOOM_BIN") == "":
		check(false, "LOOM_BIN is unset: run this test through ci/godot/test.sh, which builds bin/loom")
		return
	var q8 := LoomModel.new()
	q8.model_path = MODEL_PATH
	q8.quantize = "q8"
	check_eq(q8.load_blocking(), OK, "load_blocking() with quantize q8")
	npc = await _greedy_reply(q8, g.messages[0].content)
	var audit := npc.get_last_audit()
	var verified := verify(PackedStringArray(["--chat", "--prompt", g.messages[0].content, "--greedy", "--max-tokens", "20", "--quantize", "q8"]))
	for key in ["model_sha256", "ids", "logits_sha256", "text"]:
		check_eq(audit.get(key), verified.get(key), "q8 reply vs loom verify --quantize q8: " + key)
	var same := 0
	for i in min(audit.ids.size(), g.greedy_ids.size()):
		if audit.ids[i] != g.greedy_ids[i]:
			break
		same += 1
	report("q8_greedy_steps_equal_to_transformers_f32", same)
	npc.queue_free()
