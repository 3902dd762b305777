extends SceneTree
## Lockstep dialogue: every player's machine generates the NPC's line
## itself, and only the player's line, the seed and the history's length
## (or nothing at all, when the history is shared game state) cross the
## network. This script is one player's side: it loads the model, restores
## the conversation so far, says the player's line with the agreed seed and
## prints the reply with its audit. Two machines that print the same
## input_sha256 must print the same reply and logits_sha256 (see
## docs/lockstep.md); ci/godot/lockstep_test.sh checks that with two
## separate Godot processes.
##
##   godot --headless --path demo_project -s res://lockstep/lockstep.gd -- \
##       --say "What is your tower made of?" --seed 7 [--history FILE.json]
##       [--model res://models/wizard] [--threads N] [--max-tokens N]
##
## FILE.json is an Array of {"role": ..., "content": ...}, as get_history()
## returns it. Output lines start with LOCKSTEP; the exit code is 0 on
## success.

const SYSTEM_PROMPT := "You are Merlin, an old wizard who lives in a tower. Answer in one or two sentences."


func _initialize() -> void:
	_run.call_deferred()


func _run() -> void:
	var args := _parse(OS.get_cmdline_user_args())
	if not args.has("say") or not args.has("seed"):
		printerr("usage: -- --say TEXT --seed N [--history FILE.json] [--model PATH] [--threads N] [--max-tokens N]")
		quit(2)
		return

	var model := LoomModel.new()
	model.model_path = args.get("model", "res://models/wizard")
	model.threads = int(args.get("threads", "0"))
	var failure := {"message": null}
	model.load_failed.connect(func(message): failure.message = message)
	if model.load() != OK:
		_fail("cannot load %s" % model.model_path)
		return
	while not model.is_loaded() and failure.message == null:
		await process_frame
	if failure.message != null:
		_fail("load_failed: %s" % failure.message)
		return

	var npc := LoomNPC.new()
	npc.model = model
	npc.system_prompt = SYSTEM_PROMPT
	npc.seed = int(args.seed)
	npc.max_tokens = int(args.get("max-tokens", "32"))
	root.add_child(npc)
	if args.has("history"):
		var history = JSON.parse_string(FileAccess.get_file_as_string(args.history))
		if not history is Array or npc.set_history(history) != OK:
			_fail("%s is not a history Array" % args.history)
			return

	var result := {"reply": null}
	npc.reply_finished.connect(func(text): result.reply = text)
	npc.generation_failed.connect(func(message): failure.message = message)
	if npc.say(args.say) != OK:
		_fail("say() failed")
		return
	while result.reply == null and failure.message == null:
		await process_frame
	if failure.message != null:
		_fail("generation_failed: %s" % failure.message)
		return

	var audit := npc.get_last_audit()
	print("LOCKSTEP reply ", JSON.stringify(result.reply))
	for key in ["model_sha256", "input_sha256", "logits_sha256"]:
		print("LOCKSTEP %s %s" % [key, audit[key]])
	npc.queue_free()
	quit(0)


func _fail(message: String) -> void:
	printerr("lockstep: ", message)
	quit(1)


## Parses "--name value" pairs.
func _parse(argv: PackedStringArray) -> Dictionary:
	var out := {}
	var i := 0
	while i < argv.size():
		if argv[i].begins_with("--") and i + 1 < argv.size():
			out[argv[i].trim_prefix("--")] = argv[i + 1]
			i += 1
		i += 1
	return out
