@tool
extends EditorPlugin
## Adds the "Loom" bottom panel: pick a model folder, type a prompt, tune
## sampling and watch the reply stream in with its speed.

const LoomPanel := preload("res://addons/loom/loom_panel.gd")

var _panel: Control


func _enter_tree() -> void:
	_panel = LoomPanel.new()
	_panel.name = "Loom"
	add_control_to_bottom_panel(_panel, "Loom")


func _exit_tree() -> void:
	if _panel:
		remove_control_from_bottom_panel(_panel)
		_panel.queue_free()
		_panel = null
