extends Control
## Draws the wizard: robe, face, beard and a hat with stars. `talking`
## opens his mouth while a reply streams.

var talking := false:
	set(value):
		talking = value
		queue_redraw()


func _draw() -> void:
	var c := size / 2
	draw_colored_polygon(PackedVector2Array([c + Vector2(-70, 120), c + Vector2(70, 120), c + Vector2(40, 10), c + Vector2(-40, 10)]), Color(0.3, 0.2, 0.6))
	draw_circle(c + Vector2(0, -10), 34, Color(0.96, 0.8, 0.66))
	draw_colored_polygon(PackedVector2Array([c + Vector2(-34, 0), c + Vector2(34, 0), c + Vector2(0, 80)]), Color(0.95, 0.95, 0.95))
	draw_colored_polygon(PackedVector2Array([c + Vector2(-55, -30), c + Vector2(55, -30), c + Vector2(10, -130)]), Color(0.25, 0.15, 0.55))
	for star in [Vector2(-10, -60), Vector2(12, -90), Vector2(-22, -40)]:
		draw_circle(c + star, 4, Color(1, 0.9, 0.3))
	draw_circle(c + Vector2(-12, -16), 4, Color.BLACK)
	draw_circle(c + Vector2(12, -16), 4, Color.BLACK)
	var mouth := Rect2(c + Vector2(-8, 4), Vector2(16, 8 if talking else 2))
	draw_rect(mouth, Color(0.4, 0.1, 0.1))
