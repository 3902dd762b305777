extends Control
## The demo scene: type a line, the wizard's reply streams into the box.
##
## Modes, chosen by arguments after `--`:
##   (none)          play; without a display this runs --scripted
##   --scripted      a scripted conversation, the wizard's replies printed
##   --export-test   the exported-game check (ci/godot/export_test.sh): the
##                   wizard must answer from the model packed in the .pck

const SCRIPTED_LINES := ["Hello, old wizard!", "What is your tower made of?", "Farewell."]

@onready var wizard: LoomNPC = $Wizard
@onready var portrait := $Portrait
@onready var log_box: RichTextLabel = $Dialogue/Box/Log
@onready var line: LineEdit = $Dialogue/Box/Input/Line
@onready var send: Button = $Dialogue/Box/Input/Send


func _ready() -> void:
	wizard.generation_started.connect(func(): portrait.talking = true)
	wizard.token.connect(func(text: String): log_box.add_text(text))
	wizard.reply_finished.connect(_on_reply_finished)
	wizard.generation_failed.connect(func(message: String):
		log_box.add_text("\n(The wizard is lost in thought: %s)\n" % message)
		_on_reply_finished(""))
	line.text_submitted.connect(func(_t): _say())
	send.pressed.connect(_say)
	_set_input(false)
	log_box.add_text("The wizard is waking up…\n")

	var model: LoomModel = wizard.model
	model.loaded.connect(func():
		log_box.add_text("The wizard looks up from his book.\n")
		_set_input(true))
	model.load_failed.connect(func(message: String):
		log_box.add_text("The wizard cannot be woken: %s\n" % message)
		printerr("load_failed: ", message))
	model.load()

	var args := OS.get_cmdline_user_args()
	if "--export-test" in args:
		_export_test()
	elif "--scripted" in args or DisplayServer.get_name() == "headless":
		_scripted()


func _set_input(enabled: bool) -> void:
	line.editable = enabled
	send.disabled = not enabled
	if enabled and is_inside_tree():
		line.grab_focus()


func _say() -> void:
	var text := line.text.strip_edges()
	if text.is_empty() or wizard.is_generating():
		return
	line.clear()
	log_box.add_text("\nYou: %s\nWizard: " % text)
	_set_input(false)
	wizard.say(text)


func _on_reply_finished(_text: String) -> void:
	portrait.talking = false
	log_box.add_text("\n")
	_set_input(wizard.model.is_loaded())


func _wait_loaded() -> bool:
	var model: LoomModel = wizard.model
	var state := {"failed": false}
	var on_failed := func(_message): state.failed = true
	model.load_failed.connect(on_failed)
	while not model.is_loaded() and not state.failed:
		await get_tree().process_frame
	model.load_failed.disconnect(on_failed)
	return model.is_loaded()


## Says text and returns the whole reply ("" when generation failed).
func _ask(text: String) -> String:
	var state := {"reply": null}
	var on_reply := func(reply: String): state.reply = reply
	var on_failed := func(message: String):
		printerr("generation_failed: ", message)
		state.reply = ""
	wizard.reply_finished.connect(on_reply)
	wizard.generation_failed.connect(on_failed)
	wizard.say(text)  # a refusal arrives as generation_failed
	while state.reply == null:
		await get_tree().process_frame
	wizard.reply_finished.disconnect(on_reply)
	wizard.generation_failed.disconnect(on_failed)
	return state.reply


func _scripted() -> void:
	if not await _wait_loaded():
		get_tree().quit(1)
		return
	print("Model: ", wizard.model.get_info())
	for text in SCRIPTED_LINES:
		print("You: ", text)
		print("Wizard: ", (await _ask(text)).strip_edges())
	get_tree().quit(0)


func _export_test() -> void:
	var model: LoomModel = wizard.model
	var loaded := await _wait_loaded()
	# In an exported game res:// lives in the .pck: no such folder on disk.
	var on_disk := DirAccess.dir_exists_absolute(ProjectSettings.globalize_path(model.model_path))
	print("model ", model.model_path, " loaded=", loaded, " folder on disk=", on_disk)
	var ok := loaded and not on_disk and FileAccess.file_exists(model.model_path + "/model.safetensors")
	if ok:
		var golden_path := model.model_path + "/golden.json"
		wizard.clear_history()
		if FileAccess.file_exists(golden_path):
			# transformers' greedy reply for this model and question.
			var g: Dictionary = JSON.parse_string(FileAccess.get_file_as_string(golden_path))
			wizard.system_prompt = ""
			wizard.temperature = 0.0
			wizard.repeat_penalty = 1.0
			wizard.max_tokens = g.greedy_ids.size()
			var reply := await _ask(g.messages[0].content)
			print("reply: ", reply.c_escape())
			ok = reply == g.greedy_text
		else:
			var reply := await _ask("Who are you?")
			print("reply: ", reply.c_escape())
			ok = not reply.is_empty()
	print("EXPORT TEST ", "PASSED" if ok else "FAILED")
	get_tree().quit(0 if ok else 1)
