"""The analysis scripts, one per table or figure (``python -m analysis.NAME``); their code is rllib_metarl.analysis."""
