extends SceneTree
## What ci/godot/arm64_test.sh runs in amd64 and arm64 Godot: loads the test
## model tiny-chat, says its golden user line once greedily and once with
## seeded sampling, and prints one `LOOM <case> <key> <json>` line per fact:
## the reply and every field of get_last_audit(). The two platforms' LOOM
## lines must be identical. The greedy reply must also equal transformers'
## (golden.json); otherwise, or on any error, it exits non-zero.
##
##   godot --headless --path PROJECT -s res://arm64_probe.gd

const MODEL_PATH := "res://models/tiny-chat"
const TIMEOUT_S := 600.0

## Sampling of each case: greedy, then ci/determinism.sh's sampled settings.
const CASES := {
	"greedy": {"temperature": 0.0, "top_k": 0, "top_p": 1.0, "min_p": 0.0, "repeat_penalty": 1.0, "seed": 0},
	"sampled": {"temperature": 0.8, "top_k": 0, "top_p": 0.9, "min_p": 0.0, "repeat_penalty": 1.1, "seed": 42},
}


func _initialize() -> void:
	_run.call_deferred()


func _fail(message: String) -> void:
	printerr("arm64_probe: FAIL: ", message)
	quit(1)


func _run() -> void:
	var watchdog := create_timer(TIMEOUT_S)
	watchdog.timeout.connect(func(): _fail("timed out after %d s" % TIMEOUT_S))
	print("arm64_probe: Godot %s on %s" % [Engine.get_version_info().string, Engine.get_architecture_name()])
	var golden = JSON.parse_string(FileAccess.get_file_as_string(MODEL_PATH + "/golden.json"))
	if not golden is Dictionary:
		_fail("no golden.json in " + MODEL_PATH)
		return
	var model := LoomModel.new()
	model.model_path = MODEL_PATH
	if model.load_blocking() != OK:
		_fail("load_blocking() of " + MODEL_PATH)
		return
	for case_name in CASES:
		var npc := LoomNPC.new()
		npc.model = model
		npc.max_tokens = golden.greedy_ids.size()
		for setting in CASES[case_name]:
			npc.set(setting, CASES[case_name][setting])
		root.add_child(npc)
		var state := {"reply": null, "failed": null}
		npc.reply_finished.connect(func(t): state.reply = t)
		npc.generation_failed.connect(func(m): state.failed = m)
		if npc.say(golden.messages[0].content) != OK:
			_fail("say() in case " + case_name)
			return
		while state.reply == null and state.failed == null:
			await process_frame
		if state.failed != null:
			_fail("case %s: generation_failed: %s" % [case_name, state.failed])
			return
		print("LOOM %s reply %s" % [case_name, JSON.stringify(state.reply)])
		var audit := npc.get_last_audit()
		if audit.is_empty():
			_fail("case %s: get_last_audit() is empty after reply_finished" % case_name)
			return
		var keys := audit.keys()
		keys.sort()
		for key in keys:
			print("LOOM %s %s %s" % [case_name, key, JSON.stringify(audit[key])])
		if case_name == "greedy" and state.reply != golden.greedy_text:
			_fail("greedy reply %s is not transformers' %s" % [JSON.stringify(state.reply), JSON.stringify(golden.greedy_text)])
			return
		npc.queue_free()
	quit(0)
