"""The QA lead's desk: moving a snapshot to the product it really shows (with a record of
every move, and undo), the lead's marks (reviewed, QA first), and what the desk page at
/qa/lead/ reads (suspects, product view, history). The QA side of a move is
`service.qa.moves`; the similarity side, one call in `relabel.py`."""
