extends "res://test_case.gd"
## LoomModel's quantize, kv_cache and background_threads: their defaults, a
## bad quantize or kv_cache refused before loading, a q8 model and an
## f16-cache model whose greedy replies and audits equal `loom verify
## --quantize q8`'s and `loom verify --kv-cache f16`'s (the CLI in LOOM_BIN),
## and normal-priority threads still giving transformers' greedy reply.


func _greedy_reply(model: LoomModel, text: String) -> LoomNPC:
	var npc := make_npc(model)
	npc.max_tokens = 20
	var rec := Recorder.new(npc)
	check_eq(npc.say(text), OK, "say(%s)" % text)
	check(await wait_until(rec.done), "reply to " + text)
	check_eq(rec.failed, null, "generation_failed")
	return npc


## The audit's input hash covers the load options too: it equals
## `loom verify --ids` with the same flags (and the sampler settings of
## make_npc's NPC: LoomNPC's defaults at temperature 0).
func _check_input_hash(audit: Dictionary, flags: Array) -> void:
	var sampling := ["--max-tokens", "20", "--temp", "0", "--top-k", "40", "--top-p", "0.95", "--min-p", "0.05",
		"--repeat-penalty", "1.1", "--repeat-last-n", "64", "--seed", str(audit.seed)]
	var verified := verify(PackedStringArray(["--ids", ids_flag(audit.prompt_ids)] + sampling + flags))
	for key in ["input_sha256", "ids", "logits_sha256"]:
		check_eq(audit.get(key), verified.get(key), "audit vs loom verify --ids %s: %s" % [" ".join(flags), key])


## A greedy reply of model, loaded with the option flags name: its audit
## equals `loom verify --chat` with those flags (model, ids, logits, text)
## and `loom verify --ids` (input hash too); how many of its first steps
## equal transformers' f32 greedy ids is reported.
func _check_against_verify(model: LoomModel, g: Dictionary, name: String, flags: Array) -> void:
	var npc := await _greedy_reply(model, g.messages[0].content)
	var audit := npc.get_last_audit()
	var verified := verify(PackedStringArray(["--chat", "--prompt", g.messages[0].content, "--greedy", "--max-tokens", "20"] + flags))
	for key in ["model_sha256", "ids", "logits_sha256", "text"]:
		check_eq(audit.get(key), verified.get(key), "%s reply vs loom verify %s: %s" % [name, " ".join(flags), key])
	_check_input_hash(audit, flags)
	var same := 0
	for i in min(audit.ids.size(), g.greedy_ids.size()):
		if audit.ids[i] != g.greedy_ids[i]:
			break
		same += 1
	report(name + "_greedy_steps_equal_to_transformers_f32", same)
	npc.queue_free()


func run() -> void:
	var defaults := LoomModel.new()
	check_eq(defaults.background_threads, true, "background_threads default")
	check_eq(defaults.quantize, "none", "quantize default")
	check_eq(defaults.kv_cache, "f32", "kv_cache default")

	var bad := LoomModel.new()
	bad.model_path = MODEL_PATH
	bad.quantize = "q4"
	var failed := []
	bad.load_failed.connect(func(m): failed.append(m))
	check_eq(bad.load_blocking(), ERR_INVALID_PARAMETER, "load_blocking() with quantize q4")
	await get_tree().process_frame
	check(failed.size() == 1 and "q4" in str(failed[0]), "load_failed names the bad quantize: %s" % str(failed))

	var bad_kv := LoomModel.new()
	bad_kv.model_path = MODEL_PATH
	bad_kv.kv_cache = "f8"
	failed.clear()
	bad_kv.load_failed.connect(func(m): failed.append(m))
	check_eq(bad_kv.load_blocking(), ERR_INVALID_PARAMETER, "load_blocking() with kv_cache f8")
	await get_tree().process_frame
	check(failed.size() == 1 and "f8" in str(failed[0]), "load_failed names the bad kv_cache: %s" % str(failed))

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
	await _check_against_verify(q8, g, "q8", ["--quantize", "q8"])

	var f16 := LoomModel.new()
	f16.model_path = MODEL_PATH
	f16.kv_cache = "f16"
	check_eq(f16.kv_cache, "f16", "kv_cache reads back")
	check_eq(f16.load_blocking(), OK, "load_blocking() with kv_cache f16")
	await _check_against_verify(f16, g, "f16_cache", ["--kv-cache", "f16"])
