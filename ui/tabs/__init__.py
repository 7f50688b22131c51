"""The UI's tabs, one module each (问答, 核查, 核稿, 报告): each lays out its components and
wires its own events; ui/app.py builds them in order and wires what crosses tabs."""
