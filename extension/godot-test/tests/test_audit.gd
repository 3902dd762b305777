extends "res://test_case.gd"
## Acceptance: LoomNPC.get_last_audit() equals what `loom verify` (the
## prebuilt CLI in LOOM_BIN, run here) prints for the same model, prompt and
## options: the prompt given to verify as the ids the NPC's conversation
## rendered to (--ids), with the sampler settings as flags. That holds for a
## first turn and for a second one, which the NPC continues from its cache;
## and verify --chat, which renders the same conversation itself, agrees on
## the model, the ids, the logits and the text.

const SYSTEM := "You are Merlin, a wizard."
const MAX_TOKENS := 16
const SEED := 1234


func _configure(npc: LoomNPC) -> void:
	npc.system_prompt = SYSTEM
	npc.temperature = 0.7
	npc.top_k = 40
	npc.top_p = 0.9
	npc.min_p = 0.05
	npc.repeat_penalty = 1.2
	npc.seed = SEED
	npc.max_tokens = MAX_TOKENS


## verify's flags for the settings _configure makes (LoomNPC's repeat
## penalty looks at the last 64 tokens).
func _sampling_flags() -> PackedStringArray:
	return PackedStringArray(["--max-tokens", str(MAX_TOKENS), "--temp", "0.7", "--top-k", "40", "--top-p", "0.9",
		"--min-p", "0.05", "--repeat-penalty", "1.2", "--repeat-last-n", "64", "--seed", str(SEED)])


func _say(npc: LoomNPC, text: String) -> void:
	var rec := Recorder.new(npc)
	check_eq(npc.say(text), OK, "say(%s)" % text)
	check(await wait_until(rec.done), "reply to %s" % text)
	check_eq(rec.failed, null, "failure replying to %s" % text)


func _check_same(audit: Dictionary, verified: Dictionary, keys: Array, what: String) -> void:
	for key in keys:
		check_eq(audit.get(key), verified.get(key), "%s: %s" % [what, key])


func run() -> void:
	if OS.get_environment("LOOM_BIN") == "":
		check(false, "LOOM_BIN is unset: run this test through ci/godot/test.sh, which builds bin/loom")
		return
	var model := await load_model()
	var npc := make_npc(model)
	_configure(npc)
	check_eq(npc.get_last_audit(), {}, "audit before any generation")

	await _say(npc, "Hello there")
	var first := npc.get_last_audit()
	var all_keys := ["model_sha256", "input_sha256", "ids", "logits_sha256", "text"]
	check_eq(first.keys().size(), 7, "audit keys: %s" % str(first.keys()))
	check_eq(first.seed, SEED, "audit seed")
	check_eq(first.text, npc.get_history()[1].content, "audit text is the reply")
	_check_same(first, verify(PackedStringArray(["--ids", ids_flag(first.prompt_ids)]) + _sampling_flags()), all_keys, "first turn vs verify --ids")
	_check_same(first, verify(PackedStringArray(["--chat", "--system", SYSTEM, "--prompt", "Hello there"]) + _sampling_flags()),
		["model_sha256", "ids", "logits_sha256", "text"], "first turn vs verify --chat")

	# The second turn re-uses the cache: its audit covers the whole prompt
	# all the same.
	await _say(npc, "Tell me about your tower.")
	var second := npc.get_last_audit()
	check(second.prompt_ids.size() > first.prompt_ids.size() + first.ids.size(), "the second prompt holds the first turn")
	_check_same(second, verify(PackedStringArray(["--ids", ids_flag(second.prompt_ids)]) + _sampling_flags()), all_keys, "second turn vs verify --ids")

	# A restored conversation audits the same as the continued one.
	var restored := make_npc(model)
	_configure(restored)
	check_eq(restored.set_history(npc.get_history().slice(0, 2)), OK, "set_history()")
	await _say(restored, "Tell me about your tower.")
	check_eq(restored.get_last_audit(), second, "audit of the restored conversation")

	# stop() leaves no audit: the reply did not end on its own.
	restored.max_tokens = 100000
	check_eq(restored.say("Go on."), OK, "say() to stop")
	restored.stop()
	check_eq(restored.get_last_audit(), {}, "audit after stop()")
	report("audit_logits_sha256", second.logits_sha256)
	npc.queue_free()
	restored.queue_free()
