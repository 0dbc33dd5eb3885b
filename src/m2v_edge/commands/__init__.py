"""The runtime subcommands (``encode``, ``info``, ``similarity``), one module each with ``add_parser``/``run``.

The other subcommands live with their concern: ``export/command.py``, ``demo/command.py``,
``eval/command.py``, ``bench/command.py``. ``m2v_edge.cli`` lists them all.
"""
