extends "res://test_case.gd"
## Acceptance: get_history() saved to a file and restored with set_history()
## in a new NPC continues the conversation, and with the same seed gives the
## same next reply as the original NPC (which re-uses its cache, while the
## restored one reads the conversation afresh).

const SAVE := "user://loom_history.json"


func _configure(npc: LoomNPC) -> void:
	npc.system_prompt = "You are Merlin, a wizard."
	npc.temperature = 0.9
	npc.top_k = 40
	npc.top_p = 0.95
	npc.repeat_penalty = 1.3
	npc.seed = 424242
	npc.max_tokens = 24


func _say(npc: LoomNPC, text: String) -> String:
	var rec := Recorder.new(npc)
	check_eq(npc.say(text), OK, "say(%s)" % text)
	check(await wait_until(rec.done), "reply to %s" % text)
	check_eq(rec.failed, null, "failure replying to %s" % text)
	return rec.reply if rec.reply != null else ""


func run() -> void:
	var model := await load_model()
	var original := make_npc(model)
	_configure(original)
	await _say(original, "Hello, who are you?")
	await _say(original, "What is your tower made of?")

	var f := FileAccess.open(SAVE, FileAccess.WRITE)
	f.store_string(JSON.stringify(original.get_history()))
	f.close()

	var restored := make_npc(model)
	_configure(restored)
	var saved = JSON.parse_string(FileAccess.get_file_as_string(SAVE))
	check_eq(restored.set_history(saved), OK, "set_history() of the saved file")
	check_eq(restored.get_history(), original.get_history(), "restored history")

	var next_original := await _say(original, "And where is it?")
	var next_restored := await _say(restored, "And where is it?")
	check(next_original != "", "the original NPC replied")
	check_eq(next_restored, next_original, "the restored NPC's next reply")
	check_eq(restored.get_history(), original.get_history(), "histories after the next turn")
	check_eq(original.get_history().size(), 6, "three turns of user and assistant")
	report("reply", next_original.c_escape())
	original.queue_free()
	restored.queue_free()
