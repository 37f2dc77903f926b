"""imugait's analysis pipeline: pure, synchronous numpy/scipy over Arrow files.

``pipeline`` imports nothing else of imugait and neither bleak nor streamlit. Its public surface is the session
store (``pipeline.store``), the schemas (``pipeline.schemas``), the error tree (``pipeline.errors``), and the
processing entry point :func:`pipeline.run.process_session`.
"""
