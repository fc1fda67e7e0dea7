"""The Coach page's helpers: skeleton overlay, trend table, set history rows, fault lines."""
