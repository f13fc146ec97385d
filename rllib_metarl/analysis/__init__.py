"""Reading results into pandas and drawing them: Tune folders, TensorBoard files, figure helpers."""
