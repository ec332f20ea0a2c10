"""The paper's tables and figures: QAT on a real data set, accuracy, verification, agreement,
performance, figures, and the data sets (scikit-learn digits, ImageNet-layout folders)."""
