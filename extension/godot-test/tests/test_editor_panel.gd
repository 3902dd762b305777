extends "res://test_case.gd"
## The editor plugin's bottom panel, driven like a user would: load a model,
## say something, watch the reply stream with its speed, stop. (The editor
## itself loading the plugin without errors is checked by ci/godot/test.sh.)

const LoomPanel := preload("res://addons/loom/loom_panel.gd")


func run() -> void:
	var panel: Control = LoomPanel.new()
	add_child(panel)
	await get_tree().process_frame
	check(panel.npc != null and panel.model != null, "the panel made a LoomNPC and a LoomModel")
	panel._path.text = MODEL_PATH
	panel._on_load()
	check(await wait_until(func(): return panel.model.is_loaded()), "the panel loaded the model")
	await get_tree().process_frame
	check("LlamaForCausalLM" in panel._status.text, "status shows the model: " + panel._status.text)

	panel._spins.temperature.value = 0.0
	panel._spins.max_tokens.value = 20
	panel._prompt.text = golden().messages[0].content
	var rec := Recorder.new(panel.npc)
	panel._say.pressed.emit()
	check(await wait_until(rec.done), "the reply finished")
	check(panel._output.text.ends_with(golden().greedy_text + "\n"), "the output shows the streamed reply")
	check("tok/s" in panel._speed.text, "speed shown: " + panel._speed.text)
	check(not panel._say.disabled and panel._stop.disabled, "buttons back to idle")

	panel._spins.max_tokens.value = 4000
	panel._spins.temperature.value = 1.0
	rec.reset()
	panel._complete.pressed.emit()
	check(await wait_until(func(): return rec.tokens.size() >= 3), "raw completion streams")
	check(not panel._stop.disabled, "Stop is enabled while generating")
	panel._stop.pressed.emit()
	check(await wait_until(rec.done), "Stop ends the reply")
	panel.queue_free()
