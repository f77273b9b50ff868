from setuptools import find_packages, setup


def read_requirements(path: str = 'requirements.txt') -> list[str]:
    with open(path) as f:
        return [line.split('#')[0].strip() for line in f if line.split('#')[0].strip()]


DOCS_REQUIREMENTS = ('sphinx', 'myst-parser', 'furo')  # building docs/, not using the package

setup(
    name='mavil',
    version='0.1.0',
    description='MAViL: Masked Audio-Video Learners, a modular implementation on MMEngine',
    packages=find_packages(include=['mavil', 'mavil.*']),
    python_requires='>=3.10',
    install_requires=[r for r in read_requirements()
                      if not r.startswith(('pytest',) + DOCS_REQUIREMENTS)],
    extras_require={
        'tests': ['pytest>=8.0'],
        'docs': [r for r in read_requirements() if r.startswith(DOCS_REQUIREMENTS)],
        # CUDA only (no CPU kernels), and only with the torch its wheel was built for
        'xformers': ['xformers'],
    },
)
