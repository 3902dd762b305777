@tool
extends VBoxContainer
## The Loom bottom panel. It builds its own controls so that it has no scene
## to keep in sync, and creates LoomModel/LoomNPC through ClassDB so that it
## still opens (with a message) when the native library is missing.

const METADATA_SECTION := "loom"

var model: Resource  # LoomModel
var npc: Node  # LoomNPC

var _path: LineEdit
var _status: Label
var _system: LineEdit
var _prompt: TextEdit
var _output: TextEdit
var _speed: Label
var _say: Button
var _complete: Button
var _stop: Button
var _dialog: FileDialog
var _spins := {}
var _tokens := 0
var _started_usec := 0


func _ready() -> void:
	custom_minimum_size = Vector2(0, 220)
	if not ClassDB.class_exists("LoomNPC"):
		var missing := Label.new()
		missing.text = "Loom's native library is not loaded. Build it with `make addon` and restart the editor."
		add_child(missing)
		return
	model = ClassDB.instantiate("LoomModel")
	npc = ClassDB.instantiate("LoomNPC")
	npc.model = model
	add_child(npc)
	model.loaded.connect(_on_loaded)
	model.load_failed.connect(_on_load_failed)
	npc.generation_started.connect(_on_started)
	npc.token.connect(_on_token)
	npc.reply_finished.connect(_on_finished)
	npc.generation_failed.connect(_on_failed)
	_build()


func _build() -> void:
	var row := HBoxContainer.new()
	add_child(row)
	row.add_child(_label("Model folder"))
	_path = LineEdit.new()
	_path.size_flags_horizontal = Control.SIZE_EXPAND_FILL
	_path.placeholder_text = "res://models/tiny-chat, user://… or an absolute path"
	_path.text = _saved_path()
	row.add_child(_path)
	row.add_child(_button("Browse…", _on_browse))
	row.add_child(_button("Load", _on_load))
	_status = _label("No model loaded.")
	row.add_child(_status)

	var settings := HBoxContainer.new()
	add_child(settings)
	for spec in [
			["temperature", 0.0, 2.0, 0.01], ["top_k", 0, 200, 1], ["top_p", 0.0, 1.0, 0.01],
			["min_p", 0.0, 1.0, 0.01], ["repeat_penalty", 0.0, 2.0, 0.01], ["max_tokens", 1, 4096, 1],
			["seed", -1, 2147483647, 1]]:
		settings.add_child(_label(spec[0]))
		var spin := SpinBox.new()
		spin.min_value = spec[1]
		spin.max_value = spec[2]
		spin.step = spec[3]
		spin.value = npc.get(spec[0])
		settings.add_child(spin)
		_spins[spec[0]] = spin

	_system = LineEdit.new()
	_system.placeholder_text = "System prompt (optional)"
	add_child(_system)

	var io := HSplitContainer.new()
	io.size_flags_vertical = Control.SIZE_EXPAND_FILL
	add_child(io)
	_prompt = TextEdit.new()
	_prompt.placeholder_text = "Type a prompt…"
	_prompt.size_flags_horizontal = Control.SIZE_EXPAND_FILL
	io.add_child(_prompt)
	_output = TextEdit.new()
	_output.editable = false
	_output.wrap_mode = TextEdit.LINE_WRAPPING_BOUNDARY
	_output.size_flags_horizontal = Control.SIZE_EXPAND_FILL
	io.add_child(_output)

	var actions := HBoxContainer.new()
	add_child(actions)
	_say = _button("Say (chat)", _on_say)
	_complete = _button("Complete (raw)", _on_complete)
	_stop = _button("Stop", func(): npc.stop())
	actions.add_child(_say)
	actions.add_child(_complete)
	actions.add_child(_stop)
	actions.add_child(_button("Clear history", func(): npc.clear_history(); _output.text = ""))
	_speed = _label("")
	actions.add_child(_speed)
	_set_busy(false)


func _label(text: String) -> Label:
	var l := Label.new()
	l.text = text
	return l


func _button(text: String, handler: Callable) -> Button:
	var b := Button.new()
	b.text = text
	b.pressed.connect(handler)
	return b


func _saved_path() -> String:
	if Engine.is_editor_hint() and EditorInterface.get_editor_settings():
		return EditorInterface.get_editor_settings().get_project_metadata(METADATA_SECTION, "model_path", "")
	return ""


func _on_browse() -> void:
	if _dialog == null:
		_dialog = FileDialog.new()
		_dialog.file_mode = FileDialog.FILE_MODE_OPEN_DIR
		_dialog.access = FileDialog.ACCESS_FILESYSTEM
		_dialog.dir_selected.connect(func(dir): _path.text = dir)
		add_child(_dialog)
	_dialog.popup_centered_ratio(0.6)


func _on_load() -> void:
	model.model_path = _path.text.strip_edges()
	if Engine.is_editor_hint() and EditorInterface.get_editor_settings():
		EditorInterface.get_editor_settings().set_project_metadata(METADATA_SECTION, "model_path", model.model_path)
	_status.text = "Loading…"
	model.load()


func _on_loaded() -> void:
	var info: Dictionary = model.get_info()
	_status.text = "%s, %d params, %s, vocab %d, context %d" % [info.arch, info.params, info.dtype, info.vocab, info.context]


func _on_load_failed(message: String) -> void:
	_status.text = "Load failed: " + message


func _apply_settings() -> void:
	for key in _spins:
		npc.set(key, _spins[key].value)
	npc.system_prompt = _system.text


func _on_say() -> void:
	_apply_settings()
	_output.text += "\n> " + _prompt.text + "\n"
	npc.say(_prompt.text)


func _on_complete() -> void:
	_apply_settings()
	_output.text += "\n" + _prompt.text
	npc.generate(_prompt.text)


func _on_started() -> void:
	_tokens = 0
	_started_usec = Time.get_ticks_usec()
	_set_busy(true)


func _on_token(text: String) -> void:
	_tokens += 1
	_output.text += text
	_output.scroll_vertical = _output.get_line_count()
	var seconds := (Time.get_ticks_usec() - _started_usec) / 1e6
	if seconds > 0:
		_speed.text = "%d tokens, %.1f tok/s" % [_tokens, _tokens / seconds]


func _on_finished(_text: String) -> void:
	_output.text += "\n"
	_set_busy(false)


func _on_failed(message: String) -> void:
	_output.text += "\n[failed: %s]\n" % message
	_set_busy(false)


func _set_busy(busy: bool) -> void:
	_say.disabled = busy
	_complete.disabled = busy
	_stop.disabled = not busy
